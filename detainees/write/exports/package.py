"""Write every published record as a Frictionless Data Package: CSVs, JSON Lines, descriptor.

Published records only, through each table's explicit column list, so private fields
(internal notes, confidentiality) and drafts never reach the files. A row that names a record
not in the package loses that reference when the column is optional (an event at a draft
place keeps its date, not the place), and is left out when it is required (the names of a
draft person) or when the row means nothing without it (a province of a draft country). This
repeats until every reference resolves, so the package always passes its own foreign keys.

The output is deterministic: rows in a fixed order (records by id, linked rows in the order
they were entered), fixed formatting, and no timestamp inside the files, so the same data
always gives the same bytes. The date of an export is kept beside the archive
(`tracker-data.json`), not in it.

`write_export` streams: which rows are in the package is worked out in the database, one
temporary table of kept ids per table (the tables refer only to themselves and to tables
before them, so one pass in their order reaches the same result as pruning until nothing
changes), then each table's rows are read in chunks through a server-side cursor and written
to its CSV and to records.jsonl as they come, sizes and hashes counted on the way, the
descriptor last and the zip from the files on disk. Its memory does not grow with the data.
`collect()` and `render()` do the same in memory, for small packages and as the reference the
streamed files are tested against.
"""

import csv
import hashlib
import io
import json
import shutil
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from django.db import connection, models, transaction
from django.db.models import Case, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast

from detainees.read.csvcells import (
    CSV_GUARD_PROPERTY,
    FORMULA_STARTS,
    GUARD,
    SUSPECT_FIRST,
    csv_cell,
)
from detainees.write.exports.tables import (
    BOOLEAN,
    BY_NAME,
    CODES,
    CODES_SEPARATOR,
    ID,
    INTEGER,
    NUMBER,
    REF,
    TABLES,
    Table,
    table_schema,
)

PACKAGE_NAME = "detainee-release-tracker"
DESCRIPTOR = "datapackage.json"
RECORDS = "records.jsonl"
ARCHIVE = "tracker-data.zip"
ARCHIVE_INFO = "tracker-data.json"
# Zip entries carry this time, so the archive of the same data is the same bytes too.
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def _lookup(table: Table, column) -> str:
    if column.type == ID:
        return "public_id"
    if column.type == REF:
        return f"{column.name}__public_id"
    return column.field


def _ordering(table: Table) -> list[str]:
    # Records by their permanent id; linked rows in the order they were entered, which pages
    # show them in. Either way an import of the package recreates the same order.
    return ["public_id"] if table.publishable else ["pk"]


def candidates(table: Table) -> models.QuerySet:
    """The table's candidate rows: public records (the model's `public()`: no retracted event,
    no confidential source), or every linked row (filtered later)."""
    queryset = table.model._default_manager.all()
    if table.publishable:
        queryset = queryset.filter(table.model.public_q())
    if table.extra_filter:
        queryset = queryset.filter(**table.extra_filter)
    return queryset


def published_rows(table: Table) -> list[list]:
    queryset = candidates(table)
    lookups = [_lookup(table, c) for c in table.exported_columns]
    return [list(row) for row in queryset.order_by(*_ordering(table)).values_list(*lookups)]


def _prune(rows: dict[str, list[list]]) -> None:
    """Drop or blank references to rows that are not in the package, until none is left."""
    changed = True
    while changed:
        changed = False
        ids = {name: {row[0] for row in table_rows} for name, table_rows in rows.items()}
        for table in TABLES:
            columns = table.exported_columns
            kept = []
            for row in rows[table.name]:
                keep = True
                for i, column in enumerate(columns):
                    value = row[i]
                    if column.type != REF or value is None or value in ids[column.ref]:
                        continue
                    if column.required or column.needs_its_target:
                        keep = False
                    else:
                        row[i] = None
                        changed = True
                if keep and table.exactly_one_of:
                    positions = [i for i, c in enumerate(columns) if c.name in table.exactly_one_of]
                    keep = any(row[i] is not None for i in positions)
                if keep:
                    kept.append(row)
                else:
                    changed = True
            rows[table.name] = kept


def collect() -> dict[str, list[list]]:
    """Every table's public rows, references resolved within the package."""
    rows = {table.name: published_rows(table) for table in TABLES}
    _prune(rows)
    return rows


def csv_value(column, value) -> str:
    if value is None:
        return ""
    if column.type == BOOLEAN:
        return "true" if value else "false"
    if column.type == CODES:
        return CODES_SEPARATOR.join(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def csv_text(column, value) -> str:
    """A CSV cell: text a spreadsheet would run as a formula gets a leading `'` (numbers never)."""
    text = csv_value(column, value)
    return text if column.type in (INTEGER, NUMBER) else csv_cell(text)


def json_value(column, value):
    if value is None:
        return None
    if column.type == NUMBER:
        return float(value)
    if column.type in (INTEGER, BOOLEAN):
        return value
    return csv_value(column, value)


def json_line(data: dict) -> str:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    # U+2028/9 are line ends to some tools: escape them so a line is always one record.
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029") + "\n"


def render(rows: dict[str, list[list]]) -> dict[str, bytes]:
    """The package's files, name to content, the descriptor last."""
    files: dict[str, bytes] = {}
    lines = io.StringIO()
    for table in TABLES:
        columns = table.exported_columns
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow([c.name for c in columns])
        for row in rows[table.name]:
            writer.writerow([csv_text(c, v) for c, v in zip(columns, row, strict=True)])
            record = {"table": table.name}
            record.update((c.name, json_value(c, v)) for c, v in zip(columns, row, strict=True))
            lines.write(json_line(record))
        files[f"{table.name}.csv"] = out.getvalue().encode()
    files[RECORDS] = lines.getvalue().encode()
    files[DESCRIPTOR] = descriptor({name: _file_facts(content) for name, content in files.items()})
    return files


def _file_facts(content: bytes) -> dict:
    return {"bytes": len(content), "hash": f"sha256:{hashlib.sha256(content).hexdigest()}"}


def resource(table, schema: dict, **facts) -> dict:
    """A table's entry in a datapackage.json: its CSV, `facts` about the file, its schema."""
    return {
        "name": table.name,
        "title": table.title,
        "description": table.description,
        "path": f"{table.name}.csv",
        "profile": "tabular-data-resource",
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        **facts,
        "schema": schema,
    }


def descriptor(facts: dict[str, dict]) -> bytes:
    """datapackage.json, given each file's facts (`_file_facts`: its size and hash)."""
    resources = [
        resource(table, table_schema(table), **facts[f"{table.name}.csv"]) for table in TABLES
    ]
    package = {
        "profile": "tabular-data-package",
        "name": PACKAGE_NAME,
        "title": "Detainee-release tracker: published records",
        "description": (
            "Every published record of the tracker, one CSV per table. Rows refer to each "
            "other by the id column (the records' permanent public ids). "
            f"{RECORDS} holds the same rows as JSON Lines, one "
            '{"table": ..., <columns>} object per line, tables in the order listed here. '
            "In the CSVs, a text cell that would start with one of "
            f"{' '.join(repr(c) for c in FORMULA_STARTS)} (after any quotes) has one more {GUARD} "
            "in front, so no spreadsheet runs it as a formula; records.jsonl has the text as is."
        ),
        # Read by this project's importer: remove that one quote again (csvcells.strip_csv_guard).
        CSV_GUARD_PROPERTY: GUARD,
        "resources": resources,
        # Not a table: the same rows as the CSVs, for tools that read JSON.
        "records": {
            "path": RECORDS,
            "mediatype": "application/x-ndjson",
            **facts[RECORDS],
        },
    }
    text = json.dumps(package, ensure_ascii=False, indent=2) + "\n"
    return text.encode()


@dataclass(frozen=True)
class ExportResult:
    directory: Path
    rows: dict[str, int]
    files: dict[str, int]  # name to size in bytes
    archive: Path | None = None

    def __str__(self) -> str:
        lines = [f"{name}: {count} rows" for name, count in self.rows.items()]
        lines.append(f"{sum(self.files.values())} bytes in {len(self.files)} files")
        if self.archive:
            lines.append(f"archive: {self.archive} ({self.archive.stat().st_size} bytes)")
        return "\n".join(lines)


# Rows read from the database at a time, and the text written to a file at a time.
CHUNK = 2000


class _CountedFile:
    """A file written in pieces, its size and SHA-256 counted on the way (`_file_facts`)."""

    def __init__(self, path: Path):
        self._file = path.open("wb")
        self._hash = hashlib.sha256()
        self.bytes = 0

    def write(self, text: str) -> None:
        data = text.encode()
        self._file.write(data)
        self._hash.update(data)
        self.bytes += len(data)

    def close(self) -> dict:
        self._file.close()
        return {"bytes": self.bytes, "hash": f"sha256:{self._hash.hexdigest()}"}


def _kept(table: Table) -> str:
    """The temporary table holding the ids of `table`'s rows that are in the package."""
    return f"export_kept_{table.name}"


def _in_package(table: Table, column) -> RawSQL:
    """`column`'s reference names a row in the package (false for an empty one)."""
    qn = connection.ops.quote_name
    target = BY_NAME[column.ref]
    own = f"{qn(table.model._meta.db_table)}.{qn(table.model._meta.get_field(column.name).column)}"
    return RawSQL(
        f"EXISTS (SELECT 1 FROM {_kept(target)} kept WHERE kept.id = {own})",  # noqa: S608 (names from the models and TABLES)
        (),
        output_field=models.BooleanField(),
    )


def _keep(cursor, table: Table) -> None:
    """Fill `_kept(table)`: its candidates whose required references (and those a row means
    nothing without) name rows in the package, and, with `exactly_one_of`, that keep one."""
    meta = table.model._meta
    qn = connection.ops.quote_name
    queryset = candidates(table)
    self_refs = []
    for column in table.exported_columns:
        if column.type != REF or not (column.required or column.needs_its_target):
            continue
        if column.ref == table.name:
            self_refs.append(column)
            continue
        own = f"{qn(meta.db_table)}.{qn(meta.get_field(column.name).column)}"
        queryset = queryset.filter(
            RawSQL(
                f"({own} IS NULL OR EXISTS (SELECT 1 FROM {_kept(BY_NAME[column.ref])} "  # noqa: S608 (names from the models and TABLES)
                f"kept WHERE kept.id = {own}))",
                (),
                output_field=models.BooleanField(),
            )
        )
    if table.exactly_one_of:
        facts = [table.column(name) for name in table.exactly_one_of]
        assert all(c.type == REF and c.ref != table.name for c in facts), table.name
        sql = " OR ".join(_in_package(table, c).sql for c in facts)
        queryset = queryset.filter(RawSQL(f"({sql})", (), output_field=models.BooleanField()))
    sql, params = queryset.order_by().values_list("pk").query.sql_with_params()
    name = _kept(table)
    cursor.execute(f"DROP TABLE IF EXISTS {name}")
    cursor.execute(f"CREATE TEMPORARY TABLE {name} (id) ON COMMIT DROP AS {sql}", params)
    cursor.execute(f"ALTER TABLE {name} ADD PRIMARY KEY (id)")
    for column in self_refs:
        # A row whose parent is not in the package goes, and then its children: until none.
        parent = qn(meta.get_field(column.name).column)
        while True:
            cursor.execute(
                f"DELETE FROM {name} k USING {qn(meta.db_table)} t "  # noqa: S608 (names from the models and TABLES)
                f"WHERE t.{qn(meta.pk.column)} = k.id AND t.{parent} IS NOT NULL "
                f"AND NOT EXISTS (SELECT 1 FROM {name} p WHERE p.id = t.{parent})"
            )
            if not cursor.rowcount:
                break
    cursor.execute(f"ANALYZE {name}")


def kept_rows(table: Table):
    """The table's rows in the package, in order, a chunk at a time (after `_keep`): each as
    `published_rows` gives it, an optional reference to a row not in the package blanked."""
    queryset = table.model._default_manager.filter(
        RawSQL(
            f"{connection.ops.quote_name(table.model._meta.db_table)}."  # noqa: S608 (names from the models and TABLES)
            f"{connection.ops.quote_name(table.model._meta.pk.column)} "
            f"IN (SELECT id FROM {_kept(table)})",
            (),
            output_field=models.BooleanField(),
        )
    )
    # Ids as text from PostgreSQL (the same 36 characters `str(uuid)` gives): no UUID objects.
    lookups = []
    for column in table.exported_columns:
        if column.type not in (ID, REF):
            lookups.append(_lookup(table, column))
            continue
        if column.type == ID:
            value = Cast("public_id", output_field=models.TextField())
        else:
            value = Case(
                When(
                    _in_package(table, column),
                    then=Cast(f"{column.name}__public_id", output_field=models.TextField()),
                ),
                default=None,
                output_field=models.TextField(),
            )
        alias = f"export_{column.name}"
        queryset = queryset.annotate(**{alias: value})
        lookups.append(alias)
    ordered = queryset.order_by(*_ordering(table)).values_list(*lookups)
    return ordered.iterator(chunk_size=CHUNK)


def _chunks(rows, size: int):
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _write_table(table: Table, out: _CountedFile, lines: _CountedFile) -> int:
    """Stream the table's rows into its CSV and records.jsonl; how many there were.

    The cells are `csv_text` and `json_value` of each value, with text (most cells) taken
    straight: it is its own JSON value, and its CSV cell unless it starts like a formula."""
    columns = table.exported_columns
    # Columns whose values are text or empty: not numbers, true/false or lists of codes.
    texts = [c.type not in (INTEGER, NUMBER, BOOLEAN, CODES) for c in columns]
    keys = ["table", *(c.name for c in columns)]
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    count = 0
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow([c.name for c in columns])
    for chunk in _chunks(kept_rows(table), CHUNK):
        cells_of_chunk = []
        records = []
        for row in chunk:
            cells_of_chunk.append(
                [
                    ""
                    if value is None
                    else value
                    if is_text and type(value) is str and value[:1] not in SUSPECT_FIRST
                    else csv_text(column, value)
                    for column, is_text, value in zip(columns, texts, row, strict=True)
                ]
            )
            values = [
                value
                if value is None or (is_text and type(value) is str)
                else json_value(column, value)
                for column, is_text, value in zip(columns, texts, row, strict=True)
            ]
            records.append(encode(dict(zip(keys, [table.name, *values], strict=True))))
        writer.writerows(cells_of_chunk)
        out.write(text.getvalue())
        text.seek(0)
        text.truncate()
        # As `json_line`: U+2028/9 escaped, so that a line is always one record.
        block = "\n".join(records) + "\n"
        if "\u2028" in block or "\u2029" in block:
            block = block.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
        lines.write(block)
        count += len(chunk)
    out.write(text.getvalue())
    return count


def write_export(directory: Path, *, archive: bool = False) -> ExportResult:
    """Write the package's files into `directory`; with `archive`, also its zip and date."""
    directory.mkdir(parents=True, exist_ok=True)
    facts: dict[str, dict] = {}
    rows: dict[str, int] = {}
    # One snapshot for every table (when not already inside a transaction, as tests are).
    outermost = not connection.in_atomic_block
    with transaction.atomic(), connection.cursor() as cursor:
        if outermost:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        lines = _CountedFile(directory / RECORDS)
        try:
            for table in TABLES:
                _keep(cursor, table)
                out = _CountedFile(directory / f"{table.name}.csv")
                try:
                    rows[table.name] = _write_table(table, out, lines)
                finally:
                    facts[f"{table.name}.csv"] = out.close()
        finally:
            facts[RECORDS] = lines.close()
        for table in TABLES:
            cursor.execute(f"DROP TABLE IF EXISTS {_kept(table)}")
    content = descriptor(facts)
    (directory / DESCRIPTOR).write_bytes(content)
    facts[DESCRIPTOR] = {"bytes": len(content)}
    names = [*(f"{table.name}.csv" for table in TABLES), RECORDS, DESCRIPTOR]
    archive_path = write_archive(directory, names) if archive else None
    return ExportResult(
        directory=directory,
        rows=rows,
        files={name: facts[name]["bytes"] for name in names},
        archive=archive_path,
    )


def write_archive(directory: Path, names: list[str]) -> Path:
    """The zip the public site offers, made from the package's files in `directory` (the
    descriptor first), and beside it when it was made; replaced atomically."""
    path = directory / ARCHIVE
    tmp = directory / f".{ARCHIVE}.tmp"
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in [DESCRIPTOR, *[n for n in names if n != DESCRIPTOR]]:
            info = zipfile.ZipInfo(f"{PACKAGE_NAME}/{name}", date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            # The size known before writing, as `writestr` sets it: the same bytes, zip64 or not.
            info.file_size = (directory / name).stat().st_size
            with (directory / name).open("rb") as source, zf.open(info, "w") as target:
                shutil.copyfileobj(source, target, 2**20)
    digest = hashlib.sha256()
    with tmp.open("rb") as written:
        while block := written.read(2**20):
            digest.update(block)
    size = tmp.stat().st_size
    tmp.replace(path)
    info = {
        "file": ARCHIVE,
        "created": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "bytes": size,
        "sha256": digest.hexdigest(),
    }
    tmp = directory / f".{ARCHIVE_INFO}.tmp"
    tmp.write_text(json.dumps(info, indent=2) + "\n")
    tmp.replace(directory / ARCHIVE_INFO)
    return path


def latest_archive(directory: Path) -> dict | None:
    """What the public download page shows: the archive's date, size and checksum, if any."""
    try:
        info = json.loads((Path(directory) / ARCHIVE_INFO).read_text())
    except (OSError, ValueError):
        return None
    if not (Path(directory) / ARCHIVE).is_file():
        return None
    info["created"] = datetime.fromisoformat(info["created"])
    return info
