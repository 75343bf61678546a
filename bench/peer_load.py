"""Load a data package export into SQLite for Datasette, as a data journalist would.

    .venv-bench/bin/python bench/peer_load.py [--reference] EXPORT_DIR DATABASE.db

Runs in the benchmark's own virtualenv (sqlite-utils), never imports the application. Reads
the export's `records.jsonl` (the same rows as its CSVs, with JSON types and without the CSVs'
formula guard) and `datapackage.json` (each table's fields, types, enums and foreign keys):

- every table as published, its `id` the primary key, columns typed from the descriptor
  (integers, numbers, booleans as 0/1, the rest text), empty cells NULL;
- an index on every foreign-key column and every column with a fixed list of values, so each
  filter and facet Datasette offers on them is an index lookup;
- full-text search (FTS5) on people's names, organizations' and facilities' names and sources'
  titles;
- `people`: one row per person with what the tracker's people list shows and filters by
  (primary name, every name for the search, first capture and last release date) and one
  column per facet, a JSON array of the person's values where a person may have several, so
  Datasette counts it with `_facet_array` and filters it with `__arraycontains`. It is built
  here by SQL from the published tables, once, as the tracker keeps its stored list rows.

The rows go in by the standard library's `executemany`; `--reference` inserts them by
sqlite-utils' `insert_all` instead, as the loader first did (the rows 114 s at full size
against 55), for tests/test_bench_peer.py to hold the two to the same database.

Prints one JSON line: seconds taken (and by each step), rows per table, the database's size.
"""

import json
import sqlite3
import sys
import time
from pathlib import Path

import sqlite_utils

BATCH = 50000  # rows a call to executemany
REFERENCE_BATCH = 5000  # dicts a call to insert_all
CACHE_KIB = 256 * 2**10  # SQLite's page cache: 256 MiB
TYPES = {"integer": int, "number": float, "boolean": int}

# Facets of the `people` table: plain columns, then JSON arrays (see bench/peer.py).
PEOPLE_SQL = """
CREATE TEMP TABLE person_events AS
SELECT ep.person, e.id AS event, e.kind, e.date, e.release_kind, e.reengagement,
       e.claim_status, e.place, e.facility
FROM event_people ep JOIN events e ON e.id = ep.event
WHERE coalesce(ep.role, 'subject') = 'subject';
CREATE INDEX temp.person_events_person ON person_events(person);
CREATE TEMP TABLE person_event_orgs AS
SELECT pe.person, pe.kind, eo.role, o.name
FROM person_events pe
JOIN event_organizations eo ON eo.event = pe.event
JOIN organizations o ON o.id = eo.organization;
CREATE INDEX temp.person_event_orgs_person ON person_event_orgs(person);
CREATE TABLE people AS
SELECT p.id,
  (SELECT n.name FROM person_names n WHERE n.person = p.id AND n.is_primary = 1) AS name,
  (SELECT group_concat(n.name, ' | ') FROM person_names n WHERE n.person = p.id) AS names,
  p.gender, p.fate, p.is_placeholder,
  (SELECT min(date) FROM person_events WHERE person = p.id AND kind = 'capture') AS first_capture,
  (SELECT max(date) FROM person_events WHERE person = p.id AND kind = 'release') AS last_release,
  (SELECT json_group_array(DISTINCT kind) FROM person_events WHERE person = p.id) AS event_kind,
  (SELECT json_group_array(DISTINCT country) FROM nationalities WHERE person = p.id)
    AS nationality,
  (SELECT json_group_array(DISTINCT o.name) FROM affiliations a
     JOIN organizations o ON o.id = a.organization WHERE a.person = p.id) AS organization,
  (SELECT json_group_array(DISTINCT name) FROM person_event_orgs
     WHERE person = p.id AND kind = 'capture' AND role = 'capturing_force') AS capturing_force,
  (SELECT json_group_array(DISTINCT name) FROM person_event_orgs
     WHERE person = p.id AND role = 'custodian') AS custodian,
  (SELECT json_group_array(DISTINCT f.name) FROM person_events pe
     JOIN facilities f ON f.id = pe.facility WHERE pe.person = p.id) AS facility,
  (SELECT json_group_array(DISTINCT release_kind) FROM person_events
     WHERE person = p.id AND release_kind IS NOT NULL) AS release_kind,
  (SELECT json_group_array(DISTINCT pl.name) FROM person_events pe
     JOIN places pl ON pl.id = pe.place WHERE pe.person = p.id) AS place,
  (SELECT json_group_array(DISTINCT reengagement) FROM person_events
     WHERE person = p.id AND reengagement IS NOT NULL) AS reengaged,
  (SELECT json_group_array(DISTINCT claim_status) FROM person_events
     WHERE person = p.id AND claim_status IS NOT NULL) AS claim_status
FROM persons p
ORDER BY name, p.id;
"""


def field_types(descriptor: dict) -> dict[str, dict[str, type]]:
    types = {}
    for resource in descriptor["resources"]:
        fields = resource["schema"]["fields"]
        types[resource["name"]] = {f["name"]: TYPES.get(f.get("type"), str) for f in fields}
    return types


def indexed_columns(descriptor: dict) -> dict[str, list[str]]:
    """Every foreign-key column and every column with a fixed list of values, per table."""
    columns = {}
    for resource in descriptor["resources"]:
        schema = resource["schema"]
        names = []
        for key in schema.get("foreignKeys", []):
            fields = key["fields"]
            names += [fields] if isinstance(fields, str) else fields
        names += [f["name"] for f in schema["fields"] if f.get("constraints", {}).get("enum")]
        columns[resource["name"]] = list(dict.fromkeys(n for n in names if n != "id"))
    return columns


def insert_rows(db: sqlite_utils.Database, export_dir: Path, types: dict) -> dict[str, int]:
    """Every record into its table, in the file's order (so each row keeps its rowid), by the
    standard library's `executemany` of tuples in one transaction per table. sqlite-utils'
    `insert_all`, a batch of dicts at a time, took twice as long for this step (114 s against 55
    at full size, of a load of 159 s against 106). Cells are stored as `clean` stores them: an empty one is NULL, and the rest bind as
    they are (a boolean is an integer to sqlite3, a list goes through `join_list`)."""
    counts: dict[str, int] = {}
    statements = {
        table: f"INSERT INTO [{table}] ({', '.join(f'[{c}]' for c in columns)}) "  # noqa: S608 (names from the descriptor)
        f"VALUES ({', '.join('?' for _ in columns)})"
        for table, columns in types.items()
    }
    conn = db.conn
    table = None
    batch: list[tuple] = []

    def flush():
        if batch:
            conn.executemany(statements[table], batch)
            counts[table] = counts.get(table, 0) + len(batch)
            batch.clear()

    with (export_dir / "records.jsonl").open("rb") as lines:
        for line in lines:
            row = json.loads(line)
            name = row.pop("table")
            if name != table:
                flush()
                conn.commit()
                table, columns = name, list(types[name])
            if not row.keys() <= types[name].keys():
                # insert_all (without `alter`) refused a column its table does not have.
                raise ValueError(f"{name}: unknown columns {sorted(row.keys() - types[name])}")
            batch.append(tuple([None if cell == "" else cell for cell in map(row.get, columns)]))
            if len(batch) >= BATCH:
                flush()
    flush()
    conn.commit()
    return counts


def insert_rows_reference(
    db: sqlite_utils.Database, export_dir: Path, types: dict
) -> dict[str, int]:
    """The same rows by sqlite-utils' `insert_all`, a batch of dicts at a time."""
    batches: dict[str, list[dict]] = {}
    counts: dict[str, int] = {}
    with (export_dir / "records.jsonl").open("rb") as lines:
        for line in lines:
            row = json.loads(line)
            table = row.pop("table")
            batch = batches.setdefault(table, [])
            batch.append(clean(row))
            if len(batch) >= REFERENCE_BATCH:
                db[table].insert_all(batch, batch_size=REFERENCE_BATCH)
                counts[table] = counts.get(table, 0) + len(batch)
                batch.clear()
    for table, batch in batches.items():
        if batch:
            db[table].insert_all(batch, batch_size=REFERENCE_BATCH)
            counts[table] = counts.get(table, 0) + len(batch)
    return counts


def clean(row: dict) -> dict:
    """A record's cells as the reference stores them: empty is NULL, a boolean 0 or 1, a list
    its values joined by semicolons."""
    out = {}
    for key, cell in row.items():
        if cell == "" or cell is None:
            out[key] = None
        elif isinstance(cell, bool):
            out[key] = int(cell)
        elif isinstance(cell, list):
            out[key] = ";".join(str(v) for v in cell)
        else:
            out[key] = cell
    return out


def join_list(cell: list) -> str:
    """A list as `clean` stores it: its values joined by semicolons (an empty one is '')."""
    return ";".join(str(v) for v in cell)


sqlite3.register_adapter(list, join_list)


def load(export_dir: Path, path: Path, *, reference: bool = False) -> dict:
    started = time.perf_counter()
    descriptor = json.loads((export_dir / "datapackage.json").read_text())
    types = field_types(descriptor)
    path.unlink(missing_ok=True)
    db = sqlite_utils.Database(path)
    # Nothing to recover if the load stops half-way (the file is written again), and a page
    # cache that holds the primary-key indexes, which grow in the records' (random) order of
    # ids: with SQLite's default 2 MiB the inserts read pages back through the kernel. At full
    # size 256 MiB took as long as 2 GiB, and an in-memory temp store made the indexes slower.
    db.execute("PRAGMA journal_mode = OFF")
    db.execute("PRAGMA synchronous = OFF")
    db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
    for table, columns in types.items():
        db[table].create(columns, pk="id")
    steps: dict[str, float] = {}
    mark = time.perf_counter()

    def step(name: str):
        nonlocal mark
        now = time.perf_counter()
        steps[name] = round(now - mark, 1)
        mark = now

    counts = (insert_rows_reference if reference else insert_rows)(db, export_dir, types)
    step("rows")
    for table, columns in indexed_columns(descriptor).items():
        for column in columns:
            db[table].create_index([column], if_not_exists=True)
    step("indexes")
    db.executescript(PEOPLE_SQL)
    people = db["people"]
    people.transform(pk="id")
    for column in ("name", "gender", "fate", "is_placeholder", "first_capture", "last_release"):
        people.create_index([column])
    step("people")
    people.enable_fts(["name", "names"], create_triggers=False)
    for table, columns in {
        "person_names": ["name"],
        "organizations": ["name"],
        "facilities": ["name"],
        "sources": ["title"],
    }.items():
        db[table].enable_fts(columns, create_triggers=False)
    step("full-text")
    db.execute("ANALYZE")
    counts["people"] = people.count
    db.conn.commit()
    step("analyze")
    db.vacuum()
    db.close()
    step("vacuum")
    return {
        "seconds": round(time.perf_counter() - started, 1),
        "steps": steps,
        "rows": counts,
        "bytes": path.stat().st_size,
    }


def main(argv: list[str]) -> int:
    reference = argv[:1] == ["--reference"]
    paths = argv[1:] if reference else argv
    if len(paths) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    print(json.dumps(load(Path(paths[0]), Path(paths[1]), reference=reference)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
