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
"""

import csv
import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from detainees.read.csvcells import CSV_GUARD_PROPERTY, FORMULA_STARTS, GUARD, csv_cell
from detainees.write.exports.tables import (
    BOOLEAN,
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


def published_rows(table: Table) -> list[list]:
    """The table's candidate rows: public records (the model's `public()`: no retracted event,
    no confidential source), or every linked row (filtered later)."""
    queryset = table.model._default_manager.all()
    if table.publishable:
        queryset = queryset.filter(table.model.public_q())
    if table.extra_filter:
        queryset = queryset.filter(**table.extra_filter)
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
    files[DESCRIPTOR] = descriptor(files, rows)
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


def descriptor(files: dict[str, bytes], rows: dict[str, list[list]]) -> bytes:
    resources = [
        resource(table, table_schema(table), **_file_facts(files[f"{table.name}.csv"]))
        for table in TABLES
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
            **_file_facts(files[RECORDS]),
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


def write_export(directory: Path, *, archive: bool = False) -> ExportResult:
    """Write the package's files into `directory`; with `archive`, also its zip and date."""
    directory.mkdir(parents=True, exist_ok=True)
    rows = collect()
    files = render(rows)
    for name, content in files.items():
        (directory / name).write_bytes(content)
    archive_path = None
    if archive:
        archive_path = write_archive(directory, files)
    return ExportResult(
        directory=directory,
        rows={name: len(table_rows) for name, table_rows in rows.items()},
        files={name: len(content) for name, content in files.items()},
        archive=archive_path,
    )


def write_archive(directory: Path, files: dict[str, bytes]) -> Path:
    """The zip the public site offers, and beside it when it was made; replaced atomically."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in [DESCRIPTOR, *[n for n in files if n != DESCRIPTOR]]:
            info = zipfile.ZipInfo(f"{PACKAGE_NAME}/{name}", date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, files[name])
    content = buffer.getvalue()
    path = directory / ARCHIVE
    tmp = directory / f".{ARCHIVE}.tmp"
    tmp.write_bytes(content)
    tmp.replace(path)
    info = {
        "file": ARCHIVE,
        "created": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "bytes": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
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
