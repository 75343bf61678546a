"""Import records from CSV, JSON, JSON Lines or a data package, all or nothing.

Files follow the tables of `detainees.write.exports.tables` (the export's own format reads back in).
An import runs in two passes. The first reads every row and checks it without writing: values
of the right type and choice, required columns filled, each reference naming a row in the files
or a record in the database, and the database's unique and CHECK constraints and the place
tree (`constraints`, set-based). Every problem is listed with its file and line, and any
problem refuses the whole import. The second pass writes, in one transaction and in the
tables' order, running each model's field and constraint validation; it runs even when the
first found problems (on the rows without one), collecting what only the database refuses, so
one run reports everything; any problem rolls back everything. A dry run is the second pass rolled back at the end, so it reports exactly what an
import would do.

Rows are matched by their `id`: a record's own public id (a UUID), or the desk's identifier,
kept as an `ExternalId` for the desk's `system`, so importing a file again changes nothing.
New records are drafts unless the import publishes them (`services.may_publish` says who may;
`services.imported_status` says what state a row leaves its record in).

An import made for a user (the admin's, or the command's `--as-user`) follows that user's role,
as the admin and the API do (`detainees.domain.permissions`): a row that would change a published or
withdrawn record (or a name, link or citation of one), publish a record, or make a confidential
source non-confidential is refused, with its line, when the role may not; nothing is written.
"""

import csv
import io
import json
import uuid
import zipfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.db.models import F, Lookup
from django.utils.text import slugify
from django_countries.fields import CountryField

from detainees.domain import permissions
from detainees.domain.decimals import rounded
from detainees.domain.fuzzydates import (
    DATE_ORDERS,
    DateReading,
    FuzzyDateError,
    as_written,
    to_edtf,
)
from detainees.domain.models import (
    Event,
    EventPerson,
    ExternalId,
    Facility,
    Organization,
    Person,
    PersonName,
    Place,
    PublicationStatus,
    Publishable,
    ReleaseBatch,
)
from detainees.domain.models.people import merged_slugs, names_problem
from detainees.domain.names import fill_search_key
from detainees.read import listing_store
from detainees.read.csvcells import CSV_GUARD_PROPERTY, GUARD, strip_csv_guard
from detainees.write import services
from detainees.write.exports.tables import (
    AS_WRITTEN,
    BOOLEAN,
    BY_NAME,
    CODES,
    CODES_SEPARATOR,
    COUNTRY,
    COUNTRY_CODES,
    DATE,
    EDTF,
    ENUM,
    ID,
    INTEGER,
    NUMBER,
    REF,
    TABLES,
    TEXT,
    Table,
)
from detainees.write.importers import constraints
from detainees.write.importers.encodings import Decoder, UndecodableText

DEFAULT_SYSTEM = "import"
FORMATS = ("csv", "json", "jsonl", "package")
MAX_KEY_LENGTH = 300
# Zip members are unpacked this many bytes at a time, each step checked against the limits.
ZIP_READ_BYTES = 1024 * 1024
# The compression ratio is only held against members larger than this once unpacked: a small
# file of repeated text may pack tightly and is no danger.
RATIO_FREE_BYTES = 1024 * 1024
# The most central-directory bytes an entry may take (a 46-byte header, its name and extras):
# a directory larger than IMPORT_MAX_MEMBERS of these is refused before it is parsed.
MAX_ENTRY_BYTES = 1024
PUBLISHED = PublicationStatus.PUBLISHED
TRUE = {"true", "1", "yes", "y"}
FALSE = {"false", "0", "no", "n"}
# Their clean() checks a person's timeline for consistency (release before capture, overlapping
# custody). Sources disagree, and the record keeps both accounts: an import stores such rows,
# and the person's page shows the warnings, as for rows entered in the shell.
TIMELINE_CHECKS_ONLY = (Event, EventPerson)
# Filled by save() or the database, not by the file.
NOT_FROM_FILE = ("public_id", "slug", "search_key")


class ImportRefused(Exception):
    """The files have problems; nothing was written. `errors` lists each with where it is."""

    def __init__(self, errors: list["RowError"]):
        self.errors = errors
        super().__init__(f"{len(errors)} problem(s); nothing was imported.")


@dataclass(frozen=True)
class RowError:
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass
class Row:
    table: Table
    where: str
    raw: dict
    values: dict = field(default_factory=dict)
    key: str = ""
    public_id: uuid.UUID | None = None
    exists: bool = False
    external: bool = False
    # Public ids of existing records the row's references name (those not in the files).
    resolved: dict = field(default_factory=dict)
    changes: list = field(default_factory=list)
    obj: object = None
    # The row names a stored record and would leave it exactly as stored (`mark_unchanged`):
    # neither checked against the constraints again nor written; `pk` is that record's.
    unchanged: bool = False
    pk: int | None = None


@dataclass
class ImportReport:
    dry_run: bool
    counts: dict = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))

    def count(self, table: str, outcome: str) -> None:
        self.counts[table][outcome] += 1

    def rows(self) -> list[tuple[str, int, int, int]]:
        """(table, created, updated, unchanged) for each table the files had rows for."""
        return [
            (t.name, c["created"], c["updated"], c["unchanged"])
            for t in TABLES
            if (c := self.counts.get(t.name))
        ]

    def __str__(self) -> str:
        verbs = (
            ("would create", "would update", "unchanged")
            if self.dry_run
            else (
                "created",
                "updated",
                "unchanged",
            )
        )
        lines = [f"{'table':<20} {verbs[0]:>13} {verbs[1]:>13} {verbs[2]:>10}"]
        for name, created, updated, unchanged in self.rows():
            lines.append(f"{name:<20} {created:>13} {updated:>13} {unchanged:>10}")
        if self.dry_run:
            lines.append("Dry run: nothing was written.")
        return "\n".join(lines)


class Gate:
    """The role an import runs with: what each row may do, by `detainees.domain.permissions`.

    `stored()` reads, before a row's values are set on its record, what the rules compare
    against; `problems()` then says why the row may not be written, if it may not.
    """

    def __init__(self, user):
        self.user = user
        # Whoever may publish every type may change every published record and its rows.
        self.editor = services.may_publish(user)
        # The records rows belong to, by (model, pk): each is read once, or not at all when
        # the import wrote it (see remember()).
        self.known: dict[tuple[type, int], object] = {}
        self.parent_models = {
            model._meta.get_field(name).related_model
            for model, names in permissions.PARENTS.items()
            for name in names
        }

    def remember(self, obj) -> None:
        """Note a record the import wrote, as it now is, for the rows that belong to it."""
        if not self.editor and type(obj) in self.parent_models:
            self.known[(type(obj), obj.pk)] = obj

    def _prime(self, obj) -> None:
        """Give `obj` the records it belongs to, from those this import knows or reads once."""
        for name in permissions.PARENTS.get(type(obj), ()):
            field = obj._meta.get_field(name)
            pk = getattr(obj, field.attname)
            if pk is None or field.is_cached(obj):
                continue
            key = (field.related_model, pk)
            if key not in self.known:
                self.known[key] = field.related_model._base_manager.get(pk=pk)
            field.set_cached_value(obj, self.known[key])
            self._prime(self.known[key])

    def stored(self, obj) -> tuple:
        """(state, confidential, why the record as stored may not be changed) of `obj`."""
        if obj.pk is None:
            return None, False, None
        refused = None
        if not self.editor:
            self._prime(obj)
            refused = permissions.refusal(self.user, permissions.CHANGE, obj)
        return getattr(obj, "status", None), bool(getattr(obj, "is_confidential", False)), refused

    def problems(self, obj, stored) -> list[str]:
        old_status, old_confidential, refused = stored
        user, model = self.user, type(obj)
        action = permissions.ADD if obj.pk is None else permissions.CHANGE
        reason = permissions.refusal(user, action, model)
        if reason:
            return [reason]
        out = [refused] if refused else []
        if not self.editor and not isinstance(obj, Publishable):
            # The record the row will belong to (a name added to a published person).
            self._prime(obj)
            reason = permissions.refusal(user, action, obj, values={})
            if reason:
                out.append(reason)
        if isinstance(obj, Publishable):
            # The same rule as the admin's and the API's for the state the row leaves it in.
            old = old_status if obj.pk is not None else None
            try:
                services.check_transition(user=user, record=obj, old=old, new=obj.status)
            except services.TrackerError as exc:
                out.append(str(exc))
        confidential = getattr(obj, "is_confidential", None)
        if confidential is not None and bool(confidential) != old_confidential:
            change = (
                permissions.MARK_CONFIDENTIAL if confidential else permissions.CLEAR_CONFIDENTIAL
            )
            reason = permissions.refusal(user, change, model)
            if reason:
                out.append(reason)
        return list(dict.fromkeys(out))


def may_import(user) -> bool:
    """Whether `user` may import (as drafts): staff who may add and change every table's rows."""
    if user is None or not user.is_active or not user.is_staff:
        return False
    return all(
        permissions.may(user, action, table.model)
        for table in TABLES
        for action in (permissions.ADD, permissions.CHANGE)
    )


# --- Reading files ---------------------------------------------------------------------------


def _decode(content: bytes, where: str, decoder: Decoder | None, errors) -> str | None:
    """The file's text; None (its problem added to `errors`) if it is not in the encoding.
    The other files are still read, so that each one's first bad byte is reported at once."""
    try:
        return (decoder or Decoder()).text(content, where)
    except UndecodableText as exc:
        errors.append(RowError(exc.where, exc.message))
        return None


def _table_for(name: str, where: str, errors: list[RowError]) -> Table | None:
    table = BY_NAME.get(str(name))
    if table is None:
        errors.append(RowError(where, f"unknown table '{name}' (tables: {', '.join(BY_NAME)})"))
    return table


# The longest cell an import reads (a source's full text is the longest there is).
MAX_CELL_CHARS = 1_000_000


def _csv_problem(exc: csv.Error) -> str:
    if "field larger than field limit" in str(exc):
        return f"a cell is longer than {MAX_CELL_CHARS:,} characters"
    return f"the CSV cannot be read here: {exc}"


def read_csv(
    name: str,
    content: bytes,
    table_name: str,
    errors: list[RowError],
    *,
    guarded: bool = False,
    decoder: Decoder | None = None,
) -> list[Row]:
    """A CSV of one table. `guarded`: a package of ours whose text cells carry the formula guard
    (`detainees.read.csvcells`), which is removed again."""
    table = _table_for(table_name, f"{name}, line 1", errors)
    if table is None:
        return []
    # The csv module's limit is one per process; ours is the one every import reads with.
    csv.field_size_limit(MAX_CELL_CHARS)
    text = _decode(content, name, decoder, errors)
    if text is None:
        return []
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        errors.append(RowError(f"{name}, line 1", _csv_problem(exc)))
        return []
    if not header:
        errors.append(RowError(f"{name}, line 1", "the file is empty: a header row is needed"))
        return []
    header = [h.strip() for h in header]
    repeated = sorted({h for h in header if header.count(h) > 1})
    if repeated:
        errors.append(
            RowError(
                f"{name}, line 1",
                "column(s) named more than once: "
                + ", ".join(
                    f"{h} (columns {', '.join(str(i + 1) for i, x in enumerate(header) if x == h)})"
                    for h in repeated
                ),
            )
        )
        return []
    known = {c.name for c in table.columns}
    unknown = [h for h in header if h not in known]
    if unknown:
        errors.append(
            RowError(
                f"{name}, line 1",
                f"unknown column(s) {', '.join(unknown)} for {table.name} "
                f"(columns: {', '.join(c.name for c in table.columns)})",
            )
        )
        return []
    rows, line = [], reader.line_num + 1
    while True:
        where = f"{name}, line {line}"
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append(RowError(where, _csv_problem(exc)))
            break  # the reader cannot tell where the broken row ends: stop at the first
        line = reader.line_num + 1  # a quoted cell may span lines: the next row starts here
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            errors.append(RowError(where, f"{len(cells)} cells, the header has {len(header)}"))
            continue
        if guarded:
            cells = [strip_csv_guard(c) for c in cells]
        rows.append(Row(table, where, dict(zip(header, cells, strict=True))))
    return rows


def _record_row(record, where: str, errors: list[RowError], table_name: str | None = None):
    if not isinstance(record, dict):
        errors.append(RowError(where, "not a JSON object"))
        return None
    record = dict(record)
    table_name = record.pop("table", table_name)
    if table_name is None:
        errors.append(RowError(where, 'no "table" member'))
        return None
    table = _table_for(table_name, where, errors)
    if table is None:
        return None
    unknown = [k for k in record if k not in {c.name for c in table.columns}]
    if unknown:
        errors.append(RowError(where, f"unknown column(s) for {table.name}: {', '.join(unknown)}"))
        return None
    return Row(table, where, record)


def read_jsonl(
    name: str, content: bytes, errors: list[RowError], *, decoder: Decoder | None = None
) -> list[Row]:
    rows = []
    # Only \n ends a line: JSON text may hold U+2028 and other characters splitlines() splits on.
    text = _decode(content, name, decoder, errors)
    for number, line in enumerate((text or "").split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{name}, line {number}"
        try:
            record = json.loads(line)
        except ValueError as exc:
            errors.append(RowError(where, f"not valid JSON ({exc})"))
            continue
        row = _record_row(record, where, errors)
        if row is not None:
            rows.append(row)
    return rows


def read_json(
    name: str, content: bytes, errors: list[RowError], *, decoder: Decoder | None = None
) -> list[Row]:
    """`{"persons": [{...}], ...}` or `[{"table": "persons", ...}, ...]`."""
    try:
        text = _decode(content, name, decoder, errors)
        if text is None:
            return []
        data = json.loads(text)
    except ValueError as exc:
        errors.append(RowError(name, f"not valid JSON ({exc})"))
        return []
    rows = []
    if isinstance(data, dict):
        items = [
            (f"{name}, {table_name} record {i}", record, table_name)
            for table_name, records in data.items()
            for i, record in enumerate(records if isinstance(records, list) else [records], 1)
        ]
    elif isinstance(data, list):
        items = [(f"{name}, record {i}", record, None) for i, record in enumerate(data, 1)]
    else:
        errors.append(RowError(name, "expected an object of tables or a list of records"))
        return []
    for where, record, table_name in items:
        row = _record_row(record, where, errors, table_name)
        if row is not None:
            rows.append(row)
    return rows


def read_package(
    files: dict[str, bytes], descriptor: str, errors, *, decoder: Decoder | None = None
) -> list[Row]:
    """The CSV tables a datapackage.json lists, read from `files` (paths relative to it)."""
    try:
        text = _decode(files[descriptor], descriptor, decoder, errors)
        if text is None:
            return []
        package = json.loads(text)
    except ValueError as exc:
        errors.append(RowError(descriptor, f"not valid JSON ({exc})"))
        return []
    if not isinstance(package, dict):
        errors.append(RowError(descriptor, "not a data package descriptor (a JSON object)"))
        return []
    # Packages this project writes say that their CSVs' text cells carry the formula guard.
    guarded = package.get(CSV_GUARD_PROPERTY) == GUARD
    base = PurePosixPath(descriptor).parent
    rows = []
    for resource in package.get("resources", []):
        if _unsafe_name(str(resource.get("path", ""))):
            errors.append(
                RowError(descriptor, f"resource path {resource.get('path')} leads outside it")
            )
            continue
        path = str(base / resource.get("path", ""))
        if path not in files:
            errors.append(RowError(descriptor, f"resource file {resource.get('path')} is missing"))
            continue
        rows += read_csv(
            path, files[path], resource.get("name", ""), errors, guarded=guarded, decoder=decoder
        )
    return rows


def read_file(
    path: Path, *, fmt: str = "", table: str = "", name: str = "", decoder: Decoder | None = None
) -> list[Row]:
    """Every row in `path`: a CSV, JSON or JSON Lines file, a package directory or zip.

    `decoder` reads each file's text (`encodings.Decoder`: UTF-8 unless it says otherwise).

    Raises ImportRefused listing every problem of reading; values are checked later.
    """
    path = Path(path)
    name = name or path.name
    errors: list[RowError] = []
    if path.is_file() and (fmt == "package" or path.name == "datapackage.json"):
        # The descriptor names its CSVs relative to its own directory.
        descriptor, path = path.name, path.parent
        files = {descriptor: (path / descriptor).read_bytes()}
        for resource in _resources(files[descriptor]):
            if not _unsafe_name(resource) and (path / resource).is_file():
                files[resource] = (path / resource).read_bytes()
        rows = read_package(files, descriptor, errors, decoder=decoder)
    elif path.is_dir():
        files = {
            str(p.relative_to(path).as_posix()): p.read_bytes()
            for p in sorted(path.rglob("*"))
            if p.is_file()
        }
        rows = _read_many(files, errors, table, decoder)
    elif fmt == "zip" or (not fmt and path.suffix.lower() == ".zip"):
        rows = _read_many(read_zip(path, name), errors, table, decoder)
    else:
        rows = _read_one(name, path.read_bytes(), fmt or _format_of(name), table, errors, decoder)
    if errors:
        raise ImportRefused(errors)
    return rows


# --- Zips, within limits ----------------------------------------------------------------------


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:,.0f} MB" if n >= 1024 * 1024 else f"{n:,} bytes"


def _unsafe_name(member: str) -> bool:
    """An absolute path, a drive, or a `..` step: a name that points outside the archive."""
    parts = member.replace("\\", "/").split("/")
    return (
        member.startswith(("/", "\\"))
        or (len(member) > 1 and member[1] == ":")
        or ".." in parts
        or "\x00" in member
    )


def read_zip(path: Path, name: str) -> dict[str, bytes]:
    """{member name: content} of a zip, refused (ImportRefused) past the import limits.

    The limits are settings (IMPORT_MAX_MEMBERS, IMPORT_MAX_UNCOMPRESSED_BYTES,
    IMPORT_MAX_RATIO). The entry count and the sizes the archive declares are checked before
    anything is unpacked; members are then unpacked a megabyte at a time, counting what really
    comes out, so an archive that lies about its sizes is stopped at the limit, not after.
    Names leading outside the archive and zips inside the zip are refused too.
    """
    limits = settings.IMPORT_MAX_MEMBERS, settings.IMPORT_MAX_UNCOMPRESSED_BYTES
    max_members, max_total = limits
    max_ratio = settings.IMPORT_MAX_RATIO

    def refuse(message: str):
        return ImportRefused([RowError(name, message)])

    try:
        declared_entries, directory_bytes = _end_record(path)
        if declared_entries > max_members or directory_bytes > max_members * MAX_ENTRY_BYTES:
            raise refuse(
                f"the zip has {declared_entries:,} entries; the limit is {max_members:,} "
                "(IMPORT_MAX_MEMBERS)"
            )
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if len(infos) > max_members:
                raise refuse(
                    f"the zip has {len(infos):,} entries; the limit is {max_members:,} "
                    "(IMPORT_MAX_MEMBERS)"
                )
            members = [i for i in infos if not i.is_dir()]
            for info in members:
                if _unsafe_name(info.filename):
                    raise refuse(
                        f"the zip entry '{info.filename}' points outside the archive "
                        "(an absolute path or '..'); such zips are refused"
                    )
                if info.filename.lower().endswith(".zip"):
                    raise refuse(f"the zip holds another zip ('{info.filename}'); unpack it first")
                _check_ratio(info, info.file_size, max_ratio, refuse)
            declared = sum(i.file_size for i in members)
            if declared > max_total:
                raise refuse(
                    f"unpacked, the zip would be {_size(declared)}; the limit is "
                    f"{_size(max_total)} (IMPORT_MAX_UNCOMPRESSED_BYTES)"
                )
            files, total = {}, 0
            for info in members:
                chunks, size = [], 0
                with zf.open(info) as member:
                    while chunk := member.read(ZIP_READ_BYTES):
                        if size == 0 and chunk.startswith(b"PK\x03\x04"):
                            raise refuse(
                                f"the zip holds another zip ('{info.filename}'); unpack it first"
                            )
                        size += len(chunk)
                        total += len(chunk)
                        if total > max_total:
                            raise refuse(
                                f"unpacked, the zip is more than {_size(max_total)} "
                                "(IMPORT_MAX_UNCOMPRESSED_BYTES)"
                            )
                        _check_ratio(info, size, max_ratio, refuse)
                        chunks.append(chunk)
                files[info.filename] = b"".join(chunks)
            return files
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError) as exc:
        raise refuse(f"not a zip file that can be read ({exc})") from exc


def _end_record(path: Path) -> tuple[int, int]:
    """(entries, size of the central directory) as the zip's end record declares them.

    Read before zipfile parses the directory, which costs memory for every entry. zipfile has
    the reader (it handles Zip64 and comments) but keeps it private; without it, (0, 0) leaves
    the count to be checked after parsing.
    """
    reader = getattr(zipfile, "_EndRecData", None)
    if reader is None:
        return 0, 0
    with Path(path).open("rb") as file:
        record = reader(file)
    if not record:
        raise zipfile.BadZipFile("File is not a zip file")
    return record[zipfile._ECD_ENTRIES_TOTAL], record[zipfile._ECD_SIZE]


def _check_ratio(info: zipfile.ZipInfo, size: int, max_ratio: int, refuse) -> None:
    if size > RATIO_FREE_BYTES and size > max_ratio * max(info.compress_size, 1):
        raise refuse(
            f"the zip entry '{info.filename}' unpacks to more than {max_ratio} times its "
            f"packed size ({_size(info.compress_size)} to {_size(size)}; IMPORT_MAX_RATIO): "
            "refused as a possible zip bomb"
        )


def _resources(descriptor: bytes) -> list[str]:
    try:
        return [str(r.get("path", "")) for r in json.loads(descriptor).get("resources", [])]
    except (ValueError, AttributeError):
        return []  # read_package says what is wrong with it


def _format_of(name: str) -> str:
    suffix = PurePosixPath(name).suffix.lower().lstrip(".")
    if name.endswith("datapackage.json"):
        return "package"
    return {"ndjson": "jsonl"}.get(suffix, suffix)


def _read_one(name: str, content: bytes, fmt: str, table: str, errors, decoder=None) -> list[Row]:
    if fmt == "csv":
        return read_csv(name, content, table or PurePosixPath(name).stem, errors, decoder=decoder)
    if fmt == "jsonl":
        return read_jsonl(name, content, errors, decoder=decoder)
    if fmt == "json":
        return read_json(name, content, errors, decoder=decoder)
    if fmt == "package":
        return read_package({name: content}, name, errors, decoder=decoder)
    errors.append(RowError(name, f"unknown format '{fmt}' (use csv, json, jsonl or a package)"))
    return []


def _read_many(files: dict[str, bytes], errors, table: str, decoder=None) -> list[Row]:
    """A data package if there is a datapackage.json, else every CSV, JSON and JSON Lines."""
    descriptors = sorted((n for n in files if PurePosixPath(n).name == "datapackage.json"), key=len)
    if descriptors:
        return read_package(files, descriptors[0], errors, decoder=decoder)
    rows = []
    for name in sorted(files):
        if _format_of(name) in ("csv", "json", "jsonl"):
            rows += _read_one(name, files[name], _format_of(name), table, errors, decoder)
    if not rows and not errors:
        errors.append(RowError("archive", "no CSV, JSON or JSON Lines file in it"))
    return rows


# --- Checking values (first pass, no writes) --------------------------------------------------


def _empty(raw) -> bool:
    if raw.__class__ is str:  # most cells: a CSV's text
        return not raw or raw.isspace()
    return raw is None or (isinstance(raw, str) and raw.strip() == "")


def parse_value(column, raw, model, reading: DateReading | None = None):
    """The value to store for a cell; ValueError says why a cell is refused. None: empty.

    `reading` says how the file writes its dates (order of a numeric day, languages)."""
    if _empty(raw):
        return None
    kind = column.type
    if kind in (ID, REF):
        if not isinstance(raw, str | int) or isinstance(raw, bool):
            raise ValueError("an identifier must be text")
        value = str(raw).strip()
        if len(value) > MAX_KEY_LENGTH:
            raise ValueError(f"an identifier has at most {MAX_KEY_LENGTH} characters")
        return value
    if kind == TEXT:
        value = str(raw) if not isinstance(raw, dict | list) else None
        if value is None:
            raise ValueError("expected text")
        max_length = model._meta.get_field(column.field).max_length
        if max_length and len(value) > max_length:
            raise ValueError(f"longer than {max_length} characters")
        return value
    if kind == ENUM:
        value = str(raw).strip()
        if value not in column.choices:
            raise ValueError(f"'{value}' is not one of: {', '.join(column.choices)}")
        return value
    if kind == CODES:
        # A JSON file may give a list; a CSV cell gives the codes separated by ";".
        items = raw if isinstance(raw, list) else str(raw).split(CODES_SEPARATOR)
        codes = [str(item).strip() for item in items if str(item).strip()]
        unknown = [code for code in codes if code not in column.choices]
        if unknown:
            raise ValueError(
                f"'{unknown[0]}' is not one of: {', '.join(column.choices)} "
                f"(separate several with '{CODES_SEPARATOR}')"
            )
        return [code for code in column.choices if code in codes] or None
    if kind == COUNTRY:
        value = str(raw).strip().upper()
        if value not in COUNTRY_CODES:
            raise ValueError(f"'{raw}' is not an ISO 3166 two-letter country code")
        return value
    if kind == EDTF:
        try:
            return to_edtf(str(raw), reading or DateReading())
        except FuzzyDateError as exc:
            raise ValueError(str(exc).rstrip(".")) from exc
    if kind == INTEGER:
        if isinstance(raw, bool) or not isinstance(raw, int | str):
            raise ValueError(f"'{raw}' is not a whole number")
        try:
            value = int(str(raw).strip())
        except ValueError:
            raise ValueError(f"'{raw}' is not a whole number") from None
        if column.minimum is not None and value < column.minimum:
            raise ValueError(f"must be at least {column.minimum}")
        return value
    if kind == NUMBER:
        if isinstance(raw, bool):
            raise ValueError(f"'{raw}' is not a number")
        try:
            value = Decimal(str(raw).strip())
        except InvalidOperation:
            raise ValueError(f"'{raw}' is not a number") from None
        if not value.is_finite():
            raise ValueError(f"'{raw}' is not a number")
        model_field = model._meta.get_field(column.field)
        if isinstance(model_field, models.DecimalField):
            # A register's seven-place coordinates are kept to the field's places, not refused;
            # the range is the rounded value's, as in the admin and the API.
            value = rounded(value, model_field.decimal_places)
        if column.minimum is not None and value < column.minimum:
            raise ValueError(f"must be at least {column.minimum} ({raw} given)")
        if column.maximum is not None and value > column.maximum:
            raise ValueError(f"must be at most {column.maximum} ({raw} given)")
        return value
    if kind == BOOLEAN:
        if isinstance(raw, bool):
            return raw
        value = str(raw).strip().lower()
        if value in TRUE | FALSE:
            return value in TRUE
        raise ValueError(f"'{raw}' is not true or false")
    if kind == DATE:
        try:
            return date.fromisoformat(str(raw).strip())
        except ValueError:
            raise ValueError(f"'{raw}' is not a day as YYYY-MM-DD") from None
    raise AssertionError(kind)


def _is_uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


class AnyOf(Lookup):
    """`field = ANY(%s::type[])`: many values in one array parameter, rather than a
    placeholder per value (`__in`), which Django compiles one by one, at more cost than the
    query itself for thousands of ids. Unlike `IN (SELECT unnest(...))`, an index on the field
    serves it whatever the planner believes of the table (a table filled in this very
    transaction has no statistics yet)."""

    lookup_name = "any_of"
    prepare_rhs = False

    def __init__(self, lhs, values, sql_type: str):
        self.sql_type = sql_type
        super().__init__(lhs, list(values))

    def get_prep_lookup(self):
        return self.rhs

    def as_sql(self, compiler, connection):
        lhs, params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s::{self.sql_type}[])", [*params, self.rhs]


def any_of(name: str, values, sql_type: str) -> AnyOf:
    """The condition that the field `name` holds one of `values` (AnyOf)."""
    return AnyOf(F(name), values, sql_type)


class Resolver:
    """Finds which identifiers name existing records, in one query per table and kind."""

    def __init__(self, rows: list[Row], system: str):
        wanted: dict[str, set[str]] = defaultdict(set)
        for row in rows:
            if row.key:
                wanted[row.table.name].add(row.key)
            for column in row.table.refs():
                value = row.values.get(column.name)
                if value:
                    wanted[column.ref].add(value)
        self.known: dict[tuple[str, str], uuid.UUID] = {}
        for name, keys in wanted.items():
            model = BY_NAME[name].model
            uuids = {k: u for k in keys if (u := _is_uuid(k))}
            found = set()
            if uuids:
                found = set(
                    model._default_manager.filter(
                        any_of("public_id", set(uuids.values()), "uuid")
                    ).values_list("public_id", flat=True)
                )
            self.known.update(((name, k), u) for k, u in uuids.items() if u in found)
            others = [k for k in keys if (name, k) not in self.known]
            if not others:
                continue
            external = ExternalId.objects.filter(
                any_of("key", others, "text"), table=name, system=system
            ).values_list("key", "public_id")
            self.known.update(((name, key), public_id) for key, public_id in external)

    def get(self, table: str, key: str) -> uuid.UUID | None:
        return self.known.get((table, key))


def _fill_as_written(row: Row) -> None:
    """Each date cell's own text beside the EDTF read from it, unless the row gives the text in
    `<date>_as_written` (an export re-imported keeps the source's words that way). A cell that
    was plain EDTF, or empty, leaves it empty."""
    for column in row.table.columns:
        written = f"{column.name}{AS_WRITTEN}"
        if column.type != EDTF or column.name not in row.raw or row.values.get(written):
            continue
        raw = row.raw[column.name]
        text = "" if _empty(raw) else str(raw)
        row.values[written] = as_written(text, row.values.get(column.name) or "")


def column_date_orders(texts) -> tuple[tuple[str, str], ...]:
    """`TABLE.COLUMN=ORDER` texts (events.end_date=mdy) as DateReading.columns; ValueError
    naming what is wrong: the form, an unknown table, a column that holds no date, the order."""
    pairs = []
    for text in texts:
        name, _, order = str(text).strip().partition("=")
        table_name, _, column_name = name.strip().partition(".")
        if not order or not column_name:
            raise ValueError(f"{text!r}: give TABLE.COLUMN=ORDER, e.g. events.end_date=mdy")
        table = BY_NAME.get(table_name)
        if table is None:
            raise ValueError(f"{text!r}: no table {table_name!r} (tables: {', '.join(BY_NAME)})")
        dates = [c.name for c in table.columns if c.type == EDTF]
        if column_name not in dates:
            raise ValueError(
                f"{text!r}: {table_name} has no date column {column_name!r} "
                f"(its date columns: {', '.join(dates) or 'none'})"
            )
        if order.strip() not in DATE_ORDERS:
            raise ValueError(f"{text!r}: the order is one of {', '.join(DATE_ORDERS)}")
        pairs.append((f"{table_name}.{column_name}", order.strip()))
    return tuple(pairs)


def check_rows(
    rows: list[Row],
    *,
    system: str,
    same_as: dict | None = None,
    reading: DateReading | None = None,
    publish: bool | None = None,
) -> list[RowError]:
    """First pass: every cell, required value and reference; fills each row's values and id.

    Problems come in the order of the rows they are on. `same_as`: see `match_existing()`.
    `reading`: how every date cell of the file is written (DateReading). With `publish` (what
    the import will be told), the rows that would leave their record as stored are marked
    (`mark_unchanged`) and spared the constraint checks: the database holds them already.
    """
    errors: list[RowError] = []
    # Each table's columns with the reading of their dates, worked out once per table.
    readings: dict[str, list] = {}
    for row in rows:
        model = row.table.model
        columns = readings.get(row.table.name)
        if columns is None:
            columns = readings[row.table.name] = [
                (c, reading.for_column(f"{row.table.name}.{c.name}") if reading else None)
                for c in row.table.columns
            ]
        raw = row.raw
        for column, own in columns:
            if column.name not in raw:
                if column.required:
                    errors.append(RowError(row.where, f"{column.name} is required"))
                continue
            try:
                value = parse_value(column, raw[column.name], model, own)
            except ValueError as exc:
                errors.append(RowError(row.where, f"{column.name}: {exc}"))
                continue
            if value is None and column.required:
                errors.append(RowError(row.where, f"{column.name} is required"))
            row.values[column.name] = value
        _fill_as_written(row)
        row.key = row.values.pop("id", None) or ""
        if row.table.exactly_one_of:
            given = [n for n in row.table.exactly_one_of if row.values.get(n)]
            if len(given) != 1:
                errors.append(
                    RowError(
                        row.where,
                        f"exactly one of {', '.join(row.table.exactly_one_of)} must be given "
                        f"({len(given)} are)",
                    )
                )
    first: dict[tuple[str, str], str] = {}
    for row in rows:
        if row.key and (row.table.name, row.key) in first:
            where = first[(row.table.name, row.key)]
            errors.append(RowError(row.where, f"id {row.key} is already used at {where}"))
        elif row.key:
            first[(row.table.name, row.key)] = row.where
    resolver = Resolver(rows, system)
    for row in rows:
        if not row.key:
            continue
        row.public_id = resolver.get(row.table.name, row.key)
        row.exists = row.public_id is not None
        if not row.exists:
            row.public_id = _is_uuid(row.key) or uuid.uuid4()
            row.external = _is_uuid(row.key) is None
        for column in row.table.refs():
            value = row.values.get(column.name)
            if not value or (column.ref, value) in first:
                continue
            row.resolved[column.name] = resolver.get(column.ref, value)
            if row.resolved[column.name] is None:
                errors.append(
                    RowError(row.where, f"{column.name}: unknown {column.ref} id '{value}'")
                )
    if same_as:
        match_existing(rows, same_as)
    if publish is not None:
        mark_unchanged(rows, errors, publish=publish)
    errors += _check_names(rows)
    errors += _constraint_problems(rows, errors)
    position = {row.where: i for i, row in enumerate(rows)}
    errors.sort(key=lambda e: position.get(e.where, -1))
    errors += _order_self_references(rows)
    return errors


def _constraint_problems(rows: list[Row], errors: list[RowError]) -> list[RowError]:
    """The database's unique and CHECK constraints and the place tree, for the rows with no
    problem so far (`constraints`): set-based, a few queries per table."""
    refused = {e.where for e in errors}
    clean = [
        r for r in rows if r.where not in refused and r.public_id is not None and not r.unchanged
    ]
    ids = {(r.table.name, r.key): r.public_id for r in rows if r.key}
    found = []
    for check in (
        constraints.unique_problems,
        constraints.check_problems,
        constraints.place_tree_problems,
    ):
        found += [RowError(row.where, message) for row, message in check(clean, ids)]
    return list(dict.fromkeys(found))


def _writable(rows: list[Row], errors: list[RowError]) -> list[Row]:
    """The rows with no problem that name no row with one: the write pass tries these, so
    that what only the database can refuse is reported in the same run."""
    refused = {e.where for e in errors}
    skipped: set[tuple[str, str]] = set()
    by_table = defaultdict(list)
    for row in rows:
        by_table[row.table.name].append(row)
    keep = set()
    for table in TABLES:
        for row in by_table.get(table.name, []):
            if (
                row.where in refused
                or not row.key
                or any((c.ref, row.values.get(c.name)) in skipped for c in table.refs())
            ):
                skipped.add((table.name, row.key))
            else:
                keep.add(id(row))
    return [row for row in rows if id(row) in keep]


def match_existing(rows: list[Row], same_as: dict[str, tuple[str, ...]]) -> None:
    """Rows whose id names no record take an existing record with the same values instead.

    `same_as` gives, per table, the columns that say two rows are the same record: for
    instance {"organizations": ("name",), "places": ("parent", "kind", "name")}. A matched row
    updates that record and keeps its public id, and the rows referring to it follow, so a
    package can be loaded beside records entered another way (the demo case beside a
    synthetic dataset) without doubling its places or colliding with unique names. A reference
    column matches through the record it names; a row is matched after the rows before it, so
    a parent comes before its children.
    """
    ids = {(row.table.name, row.key): row.public_id for row in rows if row.key}
    for row in rows:
        columns = same_as.get(row.table.name)
        if not columns or row.exists or not row.key:
            continue
        lookup = {}
        for name in columns:
            column, value = row.table.column(name), row.values.get(name)
            if column.type != REF:
                lookup[column.field] = "" if value is None else value
            elif value is None:
                lookup[f"{name}__isnull"] = True
            else:
                lookup[f"{name}__public_id"] = ids.get((column.ref, value)) or row.resolved.get(
                    name
                )
        model = row.table.model._default_manager
        found = model.filter(**lookup).order_by("pk").values_list("public_id", flat=True).first()
        if found is not None:
            row.public_id, row.exists, row.external = found, True, False
            ids[(row.table.name, row.key)] = found


# Stored rows compared per query by mark_unchanged().
COMPARE_CHUNK = 10_000


def _comparison_plan(table: Table) -> list[tuple]:
    """(column, model field, lookup, text, empty) of each column a row sets: the lookup reads
    the stored value as _write_row() compares it (a reference by the public id of the record
    it names; `text`: a CharField, compared as text), `empty` is what an empty cell stores."""
    model, plan = table.model, []
    for column in table.columns:
        if column.type == ID:
            continue
        model_field = model._meta.get_field(column.field)
        lookup = f"{column.field}__public_id" if column.type == REF else model_field.attname
        text = model_field.get_internal_type() == "CharField"
        plan.append((column, model_field, lookup, text, _stored(column, None, model_field)))
    return plan


def mark_unchanged(rows: list[Row], errors: list[RowError], *, publish: bool) -> None:
    """Mark each row that names a stored record and would leave it exactly as stored.

    The same judgement as _write_row()'s (every value the row sets, as _assign() and _stored()
    make it, equal to the stored one; the state imported_status() gives unchanged), made for
    all the rows of a table at once: one query per table and COMPARE_CHUNK rows, reading the
    stored values and the public ids the references name, where _write_row() would load each
    record and the records its references name. Such rows are neither held to the constraints
    again (the database holds them) nor written; rows with a problem already are left alone.
    """
    refused = {e.where for e in errors}
    keys = {(r.table.name, r.key): r.public_id for r in rows if r.key}
    by_table: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        if row.exists and row.key and row.where not in refused:
            by_table[row.table.name].append(row)
    for name, table_rows in by_table.items():
        table = BY_NAME[name]
        model = table.model
        plan = _comparison_plan(table)
        confidential = any(f.name == "is_confidential" for f in model._meta.concrete_fields)
        # The record's pk, then what imported_status() reads, then the values the row sets.
        head = [
            "pk",
            *(["status"] if table.publishable else []),
            *(["is_confidential"] * confidential),
        ]
        lookups = [step[2] for step in plan]
        publishing = publish and table.publishable
        for start in range(0, len(table_rows), COMPARE_CHUNK):
            chunk = table_rows[start : start + COMPARE_CHUNK]
            stored = {
                values[0]: values[1:]
                for values in model._default_manager.filter(
                    any_of("public_id", {r.public_id for r in chunk}, "uuid")
                ).values_list("public_id", *head, *lookups)
            }
            for row in chunk:
                found = stored.get(row.public_id)
                if found is not None and _same(row, plan, found, len(head), keys, publishing):
                    row.unchanged, row.pk = True, found[0]


def _same(row: Row, plan, found: tuple, head: int, keys, publishing: bool) -> bool:
    """Whether the row leaves as stored the record whose pk, status and confidentiality (those
    it has: `head` values), then values in the plan's order, `found` holds. `publishing`: the
    import publishes, and the record has a state."""
    values = row.values
    for (column, _, _, text, empty), current in zip(plan, found[head:], strict=True):
        name = column.name
        if name not in values:
            continue
        value = values[name]
        if value is None:
            if column.derived_when_empty:
                continue
            value = empty  # as _stored() makes it
        elif column.type == REF:
            value = keys.get((column.ref, value)) or row.resolved.get(name)
            if value is None:
                return False
        if text and current is not None:
            current = str(current)
        if current != value:
            return False
    if publishing:
        confidential = head > 2 and found[2]
        if not confidential and found[1] != PUBLISHED:
            return False  # imported_status() would publish it
    return True


def _check_names(rows: list[Row]) -> list[RowError]:
    """The rule on a person's names (`names_problem`, as in the admin and the API) for the
    people this import creates, from the names rows it carries; and no person given two
    primary names in one file."""
    primaries: dict[str, list[tuple[bool, str]]] = defaultdict(list)
    for row in rows:
        if row.table.name == "person_names" and row.values.get("person"):
            primaries[row.values["person"]].append((bool(row.values.get("is_primary")), row.where))
    errors = []
    for row in rows:
        if row.table.name != "persons" or not row.key:
            continue
        names = primaries.get(row.key, [])
        if row.exists and not names:
            continue  # names already stored and not changed here
        if row.exists and sum(p for p, _ in names) <= 1:
            continue  # the database holds the one-primary rule against the stored names
        problem = names_problem(
            [p for p, _ in names],
            is_placeholder=bool(row.values.get("is_placeholder")),
            name_withheld=Person.Withheld.NAME in (row.values.get("withheld") or ()),
        )
        if problem:
            lines = ", ".join(where.rsplit(", ", 1)[-1] for p, where in names if p)
            detail = f" (primary at {lines})" if lines and sum(p for p, _ in names) > 1 else ""
            errors.append(RowError(row.where, f"person {row.key}: {problem}{detail}"))
    return errors


def _order_self_references(rows: list[Row]) -> list[RowError]:
    """Parents before children in tables that refer to themselves (places, organizations)."""
    errors = []
    for table in TABLES:
        own = [c for c in table.refs() if c.ref == table.name]
        if not own:
            continue
        table_rows = [r for r in rows if r.table is table]
        keys = {r.key for r in table_rows}
        placed: set[str] = set()
        ordered: list[Row] = []
        pending = table_rows
        while pending:
            ready = [
                r
                for r in pending
                if all(
                    r.values.get(c.name) not in keys or r.values.get(c.name) in placed for c in own
                )
            ]
            if not ready:
                errors += [RowError(r.where, "its parent chain makes a cycle") for r in pending]
                break
            ordered += ready
            placed |= {r.key for r in ready}
            pending = [r for r in pending if r.key not in placed]
        positions = [i for i, r in enumerate(rows) if r.table is table]
        for i, row in zip(positions, ordered, strict=False):
            rows[i] = row
    return errors


# --- Writing (second pass, one transaction) ---------------------------------------------------


class _DryRun(Exception):
    pass


def _stored(column, value, model_field):
    """What an empty cell stores: NULL where the field allows it, else the field's default."""
    if value is not None:
        return value
    if model_field.null:
        return None
    return model_field.get_default()


def _current(obj, model_field):
    value = getattr(obj, model_field.attname)
    if model_field.get_internal_type() == "CharField" and value is not None:
        return str(value)  # a Country compares by its code
    return value


def _check_row(obj) -> None:
    """What needs no query: field values, and the model's own clean() (a place's country).

    Foreign keys are left out: the first pass found every record they name. Constraints are
    left to the database, and explained by _explain() for the rows it refuses: asking the
    database about each of a row's twenty CHECKs first would make an import ten times slower.
    """
    errors = {}
    exclude = {*NOT_FROM_FILE, *(f.name for f in obj._meta.concrete_fields if f.is_relation)}
    # A country code the first pass read is one of the choices; checking it again walks the
    # list of every country's translated name, the costliest part of checking a row.
    exclude.update(
        f.name
        for f in obj._meta.concrete_fields
        if isinstance(f, CountryField) and _code(getattr(obj, f.attname)) in COUNTRY_CODES
    )
    try:
        obj.clean_fields(exclude=exclude)
    except ValidationError as exc:
        errors = exc.update_error_dict(errors)
    if not isinstance(obj, TIMELINE_CHECKS_ONLY):
        try:
            obj.clean()
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)


def _code(value) -> str:
    return getattr(value, "code", value) or ""


def _explain(obj, error: IntegrityError) -> list[str]:
    """The constraint messages for a row the database refused, or its own words."""
    errors = {}
    for check in (obj.validate_unique, obj.validate_constraints):
        try:
            check(exclude=NOT_FROM_FILE)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
    if errors:
        return _messages(ValidationError(errors))
    return [str(error).splitlines()[0]]


def _messages(exc: ValidationError) -> list[str]:
    out = []
    for name, messages in exc.message_dict.items():
        prefix = "" if name == "__all__" else f"{name}: "
        out += [f"{prefix}{m}" for m in messages]
    return out


# New rows of these tables are written by bulk inserts, a chunk at a time; the rest row by row.
# Places and organizations stay row by row: their save() and clean() read the parent row
# (a place takes its parent's country, an organization's parents must not make a cycle),
# and desks send few of them.
ROW_BY_ROW = (Place, Organization)
NOT_IMPORTED = "could not be imported"
CHUNK = 1000
# What save() makes a new record's slug from, for the tables that have one (their save()
# calls unique_slug() with the same text); people get the name-based slug once their names are
# in, as Person.refresh_slug() gives it.
SLUG_TEXT = {
    Person: lambda obj: f"person-{obj.public_id.hex[:8]}",
    Facility: lambda obj: obj.name,
    ReleaseBatch: lambda obj: obj.title,
}


def write_rows(rows, *, publish: bool, system: str, report: ImportReport, progress=None, gate=None):
    """Second pass: create or update each row in order; the caller holds the transaction.

    New records are inserted a chunk of rows at a time (bulk_create); the queries an import
    sends grow with the number of chunks, not of rows. Updates, and the tables in ROW_BY_ROW,
    go row by row. A chunk the database refuses is written again row by row, to name each
    refused row. With a `gate`, a row its user's role may not write is refused.
    """
    errors: list[RowError] = []
    pks: dict[tuple[str, uuid.UUID], int] = {}
    keys: dict[tuple[str, str], uuid.UUID] = {(r.table.name, r.key): r.public_id for r in rows}
    new_people: list[int] = []
    _quiet_trigger_checks()
    by_table = defaultdict(list)
    for row in rows:
        by_table[row.table.name].append(row)
    for table in TABLES:
        table_rows = by_table.get(table.name, [])
        if not table_rows:
            continue
        model = table.model
        wanted = [r.public_id for r in table_rows if r.exists and not r.unchanged]
        existing = {
            obj.public_id: obj
            for obj in (
                model._default_manager.filter(any_of("public_id", wanted, "uuid")) if wanted else ()
            )
        }
        _load_pks(table, table_rows, keys, pks)
        slugs = SlugAllocator(model, reserved=_reserved_slugs(model))
        if model in ROW_BY_ROW:
            chunks = [table_rows[i : i + 1] for i in range(len(table_rows))]
        else:
            chunks = [table_rows[i : i + CHUNK] for i in range(0, len(table_rows), CHUNK)]
        for chunk in chunks:
            for row, outcome, problems in _write_chunk(
                chunk, table, existing, keys, pks, slugs, publish=publish, system=system, gate=gate
            ):
                if problems:
                    # A row naming a refused row is refused with it; that row says why.
                    own = [p for p in problems if not p.endswith(NOT_IMPORTED)]
                    errors += [RowError(row.where, p) for p in (own if errors else problems)]
                    continue
                if outcome == "created" and model is Person:
                    new_people.append(row.obj.pk)
                if row.unchanged:
                    # Its record as stored: the rows naming it read it themselves if they must.
                    pks[(table.name, row.public_id)] = row.pk
                    report.count(table.name, outcome)
                    continue
                pks[(table.name, row.public_id)] = row.obj.pk
                if gate is not None:
                    gate.remember(row.obj)
                report.count(table.name, outcome)
            if progress is not None:
                progress.update(len(chunk))
    refresh_slugs(new_people)
    return errors


def _quiet_trigger_checks() -> None:
    """Spare the audit-history triggers an error per row, for the rest of the transaction.

    Each history trigger first asks whether it is to be ignored, reading the `pgtrigger.ignore`
    setting inside a BEGIN ... EXCEPTION block; unset, the read fails and the block's
    subtransaction is rolled back. PostgreSQL then walks every foreign-key check still deferred
    to the commit, so that each row cost as much as all the rows before it: a 100k-row import
    took minutes in its triggers alone. Set (to "ignore none"), the read succeeds. A transaction
    that already ignores triggers (pgtrigger.ignore()) keeps its own setting. The context the
    history records (who, why) is set by `acting()` for the command and by the history
    middleware for the admin; without one the triggers' other read fails the same way.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('pgtrigger.ignore', '{}', true) "
            "WHERE coalesce(current_setting('pgtrigger.ignore', true), '') = ''"
        )


def _write_chunk(
    chunk, table, existing, keys, pks, slugs, *, publish: bool, system: str, gate=None
):
    """(row, outcome, problems) for each row of the chunk, its records written.

    Rows that update or leave a record go through _write_row() one by one; new records are
    checked one by one and then inserted together, with their external ids.
    """
    results, new = [], []
    for row in chunk:
        if row.unchanged:
            results.append((row, "unchanged", []))
            continue
        if row.exists or table.model in ROW_BY_ROW:
            outcome, problems = _write_row(
                row, table, existing, keys, pks, publish=publish, gate=gate
            )
            if outcome == "created" and row.external:
                _external_ids([row], system)
            results.append((row, outcome, problems))
            continue
        problems = _build_new(row, table, keys, pks, publish=publish, gate=gate)
        results.append((row, "created", problems))
        if not problems:
            new.append(row)
    refused = _insert(new, table, slugs, system) if new else {}
    return [(row, outcome, refused.get(id(row), problems)) for row, outcome, problems in results]


def _build_new(row: Row, table: Table, keys, pks, *, publish: bool, gate=None) -> list[str]:
    """The unsaved record of a new row, checked as _write_row() checks it; its problems."""
    obj = table.model(public_id=row.public_id)
    row.obj = obj
    problems = _assign(row, obj, keys, pks)
    if problems:
        return problems
    for model_field, value in row.changes:
        setattr(obj, model_field.attname, value)
    if table.publishable:
        obj.status = services.imported_status(obj, is_new=True, publish=publish)
    if gate is not None:
        refused = gate.problems(obj, gate.stored(obj))
        if refused:
            return refused
    try:
        _check_row(obj)
    except ValidationError as exc:
        return _messages(exc)
    return []


def _insert(new: list[Row], table: Table, slugs, system: str) -> dict[int, list[str]]:
    """Insert the new rows' records at once, doing what their save() does first.

    If the database refuses any, the chunk is undone and its rows saved one at a time, so that
    each refused row is named with the constraint it breaks: {id(row): problems}.
    """
    model = table.model
    objs = [row.obj for row in new]
    if model in SLUG_TEXT:
        for obj, slug in zip(
            objs, slugs.allocate([SLUG_TEXT[model](o) for o in objs]), strict=True
        ):
            obj.slug = slug
    if any(f.name == "search_key" for f in model._meta.concrete_fields):
        for obj in objs:
            fill_search_key(obj)
    try:
        with transaction.atomic():  # a savepoint
            model._default_manager.bulk_create(objs)
            _external_ids(new, system)
        return {}
    except IntegrityError:
        pass
    refused = {}
    for row in new:
        row.obj.pk = None
        row.obj._state.adding = True
        try:
            with transaction.atomic():
                row.obj.save()
                _external_ids([row], system)
        except IntegrityError as exc:
            refused[id(row)] = _explain(row.obj, exc)
    return refused


def _external_ids(rows: list[Row], system: str) -> None:
    ExternalId.objects.bulk_create(
        ExternalId(table=r.table.name, system=system, key=r.key, public_id=r.public_id)
        for r in rows
        if r.external
    )


class SlugAllocator:
    """unique_slug() for many new records of a model at once: a query or two per chunk.

    Gives each text, in order, the first of base, base-2, base-3, ... that no row of the model
    has, that `reserved` (a queryset with a `slug`) does not hold, and that it has not given
    already, as unique_slug() called for one record after another does.
    """

    def __init__(self, model, reserved=None, max_length: int = 80):
        self.model, self.reserved, self.max_length = model, reserved, max_length
        self.given: set[str] = set()

    def allocate(self, texts: list[str]) -> list[str]:
        bases = [slugify(t)[: self.max_length].strip("-") or "record" for t in texts]
        need = Counter(bases)
        free: dict[str, list[str]] = defaultdict(list)  # not in the table, in order
        queried = dict.fromkeys(need, 0)  # base-n for every n up to this is in `free` or taken
        window = {base: count + 2 for base, count in need.items()}
        short = set(need)
        while True:
            self._find_free(short, free, queried, window)
            # One text after another, as unique_slug() would be called: a slug given to one
            # text (of any base: "a-2" may be the base of one and the second "a") is taken.
            given, out, short, start = set(self.given), [], set(), defaultdict(int)
            for base in bases:
                candidates, i = free[base], start[base]
                while i < len(candidates) and candidates[i] in given:
                    i += 1
                if i == len(candidates):
                    short.add(base)
                    continue
                given.add(candidates[i])
                out.append(candidates[i])
                start[base] = i + 1
            if not short:
                self.given = given
                return out

    def _find_free(self, bases, free, queried, window) -> None:
        """Extend the free slugs of `bases` by one window each: one query, two if reserved."""
        candidates = {
            base: [
                _numbered(base, n)
                for n in range(queried[base] + 1, queried[base] + 1 + window[base])
            ]
            for base in bases
        }
        flat = [c for names in candidates.values() for c in names]
        taken = set(
            self.model._default_manager.filter(slug__in=flat).values_list("slug", flat=True)
        )
        if self.reserved is not None:
            taken.update(self.reserved.filter(slug__in=flat).values_list("slug", flat=True))
        for base in bases:
            free[base] += [c for c in candidates[base] if c not in taken]
            queried[base] += window[base]
            window[base] *= 2


def _numbered(base: str, n: int) -> str:
    return base if n == 1 else f"{base}-{n}"


def _reserved_slugs(model):
    return merged_slugs() if model is Person else None


def refresh_slugs(people: list[int]) -> None:
    """Person.refresh_slug() for many new people at once, in the order they would get it."""
    if not people:
        return
    primary: dict[int, str] = {}
    # PersonName's ordering puts the primary name first, as Person.primary_name reads it.
    for person_id, name in PersonName.objects.filter(person_id__in=people).values_list(
        "person_id", "name"
    ):
        primary.setdefault(person_id, name)
    renamed = [
        person
        for person in Person.objects.filter(pk__in=people).only("pk", "slug")
        if person.pk in primary and person.slug.startswith("person-")
    ]
    slugs = SlugAllocator(Person, reserved=merged_slugs())
    for start in range(0, len(renamed), CHUNK):
        chunk = renamed[start : start + CHUNK]
        for person, slug in zip(chunk, slugs.allocate([primary[p.pk] for p in chunk]), strict=True):
            person.slug = slug
        Person.objects.bulk_update(chunk, ["slug"])


def _write_row(row: Row, table: Table, existing, keys, pks, *, publish: bool, gate=None):
    """Create, update or leave one record; (outcome, problems)."""
    obj = existing.get(row.public_id) or table.model(public_id=row.public_id)
    row.obj = obj
    is_new = obj.pk is None
    stored = gate.stored(obj) if gate is not None else None
    problems = _assign(row, obj, keys, pks)
    if problems:
        return None, problems
    changed = is_new or any(_current(obj, f) != v for f, v in row.changes)
    for model_field, value in row.changes:
        setattr(obj, model_field.attname, value)
    if table.publishable:
        status = services.imported_status(obj, is_new=is_new, publish=publish)
        changed = changed or status != obj.status
        obj.status = status
    if not changed:
        return "unchanged", []
    if gate is not None:
        refused = gate.problems(obj, stored)
        if refused:
            return None, refused
    try:
        _check_row(obj)
        with transaction.atomic():  # a savepoint: a refused row leaves the others going
            obj.save()
    except ValidationError as exc:
        return None, _messages(exc)
    except IntegrityError as exc:
        return None, _explain(obj, exc)
    return ("created" if is_new else "updated"), []


def _load_pks(table: Table, table_rows, keys, pks) -> None:
    """The primary keys of existing records this table's rows refer to, one query per table."""
    wanted = defaultdict(set)
    for row in table_rows:
        if row.unchanged:
            continue  # not written: the records it names are not needed
        for column in table.refs():
            value = row.values.get(column.name)
            if value:
                public_id = keys.get((column.ref, value)) or row.resolved.get(column.name)
                if public_id and (column.ref, public_id) not in pks:
                    wanted[column.ref].add(public_id)
    for name, public_ids in wanted.items():
        found = BY_NAME[name].model._default_manager.filter(public_id__in=public_ids)
        pks.update(((name, p), pk) for p, pk in found.values_list("public_id", "pk"))


def _assign(row: Row, obj, keys, pks) -> list[str]:
    """The (field, value) pairs the row sets, in `row.changes`; problems with its references."""
    problems, changes = [], []
    for column in row.table.columns:
        if column.type == ID or column.name not in row.values:
            continue
        model_field = obj._meta.get_field(column.field)
        value = row.values[column.name]
        if value is None and column.derived_when_empty and obj.pk is not None:
            continue
        if column.type == REF and value is not None:
            public_id = keys.get((column.ref, value)) or row.resolved.get(column.name)
            pk = pks.get((column.ref, public_id))
            if pk is None:
                problems.append(f"{column.name}: the {column.ref} row it names {NOT_IMPORTED}")
                continue
            value = pk
        changes.append((model_field, _stored(column, value, model_field)))
    row.changes = changes
    return problems


def import_rows(
    rows: list[Row],
    *,
    publish: bool = False,
    dry_run: bool = False,
    system: str = DEFAULT_SYSTEM,
    progress=None,
    user=None,
    same_as: dict | None = None,
    reading: DateReading | None = None,
) -> ImportReport:
    """Check, then write every row, all or nothing; ImportRefused lists every problem.

    `user` is who runs the import (the admin's background job passes the user who started
    it): each row is held to that user's role (`Gate`). Without one (the management command
    run on the server), every row may be written. `progress`, if given, has `update(rows)`
    called as rows are written. `same_as` matches new rows to existing records by their
    values (`match_existing()`). `reading` says how the file writes its dates: the order of
    a numeric day and the languages of its month names and words (DateReading).
    """
    errors = check_rows(rows, system=system, same_as=same_as, reading=reading, publish=publish)
    report = ImportReport(dry_run=dry_run)
    try:
        with transaction.atomic():
            # The stored lists are recomputed once, for everyone the import touched, at the
            # end rather than after every statement.
            with listing_store.deferred():
                # With problems found already, the other rows are still written (and rolled
                # back), so that what only the database refuses is in the same report.
                errors += write_rows(
                    _writable(rows, errors) if errors else rows,
                    publish=publish,
                    system=system,
                    report=report,
                    progress=progress,
                    gate=Gate(user) if user is not None else None,
                )
            if errors:
                position = {row.where: i for i, row in enumerate(rows)}
                errors.sort(key=lambda e: position.get(e.where, -1))
                raise ImportRefused(list(dict.fromkeys(errors)))
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return report
