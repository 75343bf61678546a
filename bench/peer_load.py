"""Load a data package export into SQLite for Datasette, as a data journalist would.

    .venv-bench/bin/python bench/peer_load.py EXPORT_DIR DATABASE.db

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

Prints one JSON line: seconds taken, rows per table, the database's size.
"""

import json
import sys
import time
from pathlib import Path

import sqlite_utils

BATCH = 5000
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


def clean(row: dict, types: dict[str, type]) -> dict:
    out = {}
    for key, value in row.items():
        if value == "" or value is None:
            out[key] = None
        elif isinstance(value, bool):
            out[key] = int(value)
        elif isinstance(value, list):
            out[key] = ";".join(str(v) for v in value)
        else:
            out[key] = value
    return out


def load(export_dir: Path, path: Path) -> dict:
    started = time.perf_counter()
    descriptor = json.loads((export_dir / "datapackage.json").read_text())
    types = field_types(descriptor)
    path.unlink(missing_ok=True)
    db = sqlite_utils.Database(path)
    db.execute("PRAGMA journal_mode = OFF")
    db.execute("PRAGMA synchronous = OFF")
    for table, columns in types.items():
        db[table].create(columns, pk="id")
    batches: dict[str, list[dict]] = {}
    counts: dict[str, int] = {}
    with (export_dir / "records.jsonl").open("rb") as lines:
        for line in lines:
            row = json.loads(line)
            table = row.pop("table")
            batch = batches.setdefault(table, [])
            batch.append(clean(row, types[table]))
            if len(batch) >= BATCH:
                db[table].insert_all(batch, batch_size=BATCH)
                counts[table] = counts.get(table, 0) + len(batch)
                batch.clear()
    for table, batch in batches.items():
        if batch:
            db[table].insert_all(batch, batch_size=BATCH)
            counts[table] = counts.get(table, 0) + len(batch)
    for table, columns in indexed_columns(descriptor).items():
        for column in columns:
            db[table].create_index([column], if_not_exists=True)
    db.executescript(PEOPLE_SQL)
    people = db["people"]
    people.transform(pk="id")
    for column in ("name", "gender", "fate", "is_placeholder", "first_capture", "last_release"):
        people.create_index([column])
    people.enable_fts(["name", "names"], create_triggers=False)
    for table, columns in {
        "person_names": ["name"],
        "organizations": ["name"],
        "facilities": ["name"],
        "sources": ["title"],
    }.items():
        db[table].enable_fts(columns, create_triggers=False)
    db.execute("ANALYZE")
    counts["people"] = people.count
    db.conn.commit()
    db.vacuum()
    db.close()
    return {
        "seconds": round(time.perf_counter() - started, 1),
        "rows": counts,
        "bytes": path.stat().st_size,
    }


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    print(json.dumps(load(Path(argv[0]), Path(argv[1]))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
