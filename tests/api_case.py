"""Enter a data package through the write API only, as a script author would.

Each record is written with `PUT /api/v1/<type>/by-key/<system>/<package id>/`, so a re-run
replaces what an earlier run wrote; a record's rows (names, control periods, memberships,
citations) travel inside it, in the package's order. Links are written with the ids the API
gave the linked records. An empty cell is left out, so the API's default applies, as the
importer reads an empty cell.
"""

import csv
import json
from collections import defaultdict
from pathlib import Path

# The package's tables in the order the API needs them (a record before anything linking it),
# with the endpoint each is written to.
ENDPOINTS = {
    "organizations": "organizations",
    "places": "places",
    "sources": "sources",
    "facilities": "facilities",
    "persons": "persons",
    "release_batches": "batches",
    "events": "events",
    "affiliations": "affiliations",
    "relationships": "relationships",
}

# Links, by table and column: the table the linked record is in.
LINKS = {
    "organizations": {"parent": "organizations"},
    "places": {"parent": "places"},
    "sources": {"publisher": "organizations"},
    "facilities": {"place": "places"},
    "facility_controls": {"controller": "organizations"},
    "persons": {"birthplace": "places"},
    "release_batches": {"ordered_by": "organizations", "carried_out_by": "organizations"},
    "batch_memberships": {"person": "persons"},
    "events": {
        "place": "places",
        "facility": "facilities",
        "from_facility": "facilities",
        "batch": "release_batches",
    },
    "event_people": {"person": "persons"},
    "event_organizations": {"organization": "organizations"},
    "affiliations": {
        "person": "persons",
        "organization": "organizations",
        "place": "places",
    },
    "relationships": {"person": "persons", "other": "persons"},
    "citations": {"source": "sources"},
}

# A record's rows: (its table, the column naming the record, the key they go under).
PARTS = {
    "organizations": [("organization_names", "organization", "names")],
    "facilities": [
        ("facility_names", "facility", "names"),
        ("facility_controls", "facility", "controls"),
    ],
    "persons": [
        ("person_names", "person", "names"),
        ("nationalities", "person", "nationalities"),
    ],
    "release_batches": [("batch_memberships", "batch", "memberships")],
    "events": [
        ("event_people", "event", "people"),
        ("event_organizations", "event", "organizations"),
    ],
}

# The citation column naming each kind of fact, by the fact's table.
CITED = {
    "persons": "person",
    "person_names": "person_name",
    "nationalities": "nationality",
    "affiliations": "affiliation",
    "events": "event",
    "facility_controls": "facility_control",
    "release_batches": "batch",
    "batch_memberships": "batch_membership",
    "relationships": "relationship",
}

# Tables whose records have no publication state of their own (a tie is public with its people).
UNPUBLISHABLE = {"relationships"}
BOOLEANS = {"is_primary", "is_placeholder", "is_confidential"}
INTEGERS = {
    "declared_considered",
    "declared_released",
    "strength_estimate",
    "unnamed_count",
    "order_hint",
    "age",
}
# What a row says about where it belongs, not about itself.
OMITTED = {"id"}


class Refused(Exception):
    """The API refused a write: its status and answer."""


def read_package(directory: Path) -> dict[str, list[dict]]:
    descriptor = json.loads((directory / "datapackage.json").read_text())
    tables = {}
    for resource in descriptor["resources"]:
        path = directory / resource["path"]
        if path.suffix != ".csv":
            continue
        with path.open(encoding="utf-8", newline="") as handle:
            tables[resource["name"]] = list(csv.DictReader(handle))
    return tables


def in_link_order(rows: list[dict], column: str) -> list[dict]:
    """`rows` with every row after the row its `column` names (a parent before its children)."""
    ids = {row["id"] for row in rows}
    placed, ordered, waiting = set(), [], list(rows)
    while waiting:
        ready = [
            r for r in waiting if not r.get(column) or r[column] in placed or r[column] not in ids
        ]
        if not ready:
            raise ValueError(f"A cycle of {column!r} links among {len(waiting)} rows.")
        for row in ready:
            ordered.append(row)
            placed.add(row["id"])
        waiting = [r for r in waiting if r["id"] not in placed]
    return ordered


class PackageWriter:
    def __init__(self, client, tables: dict[str, list[dict]], *, system: str = "package"):
        self.client = client
        self.tables = tables
        self.system = system
        self.ids: dict[str, str] = {}  # package id -> the id the API gave
        self.citations = defaultdict(list)  # (table, package id) -> citation rows
        for row in tables.get("citations", []):
            for table, column in CITED.items():
                if row.get(column):
                    self.citations[table, row[column]].append(row)
        self.requests = 0

    def body(self, table: str, row: dict) -> dict:
        """The API's body for a package row: its values, links as API ids, its own rows."""
        links = LINKS.get(table, {})
        body = {}
        for column, value in row.items():
            if column in OMITTED or value in ("", None):
                continue
            if column in links:
                body[column] = self.ids[value]
            elif column in BOOLEANS:
                body[column] = value == "true"
            elif column in INTEGERS:
                body[column] = int(value)
            else:
                body[column] = value
        if table in CITED:
            body["citations"] = [
                self.body("citations", self.fact_free(c)) for c in self.citations[table, row["id"]]
            ]
        return body

    @staticmethod
    def fact_free(citation: dict) -> dict:
        """A citation without the columns saying which fact it cites: nesting says it."""
        return {k: v for k, v in citation.items() if k not in CITED.values()}

    def record_body(self, table: str, row: dict, status: str) -> dict:
        body = self.body(table, row)
        for part_table, column, key in PARTS.get(table, []):
            body[key] = [
                {k: v for k, v in self.body(part_table, part).items() if k != column}
                for part in self.tables.get(part_table, [])
                if part[column] == row["id"]
            ]
        if table not in UNPUBLISHABLE:
            body["status"] = status
        return body

    def put(self, table: str, row: dict, status: str) -> dict:
        path = f"/api/v1/{ENDPOINTS[table]}/by-key/{self.system}/{row['id']}/"
        response = self.client.put(
            path, self.record_body(table, row, status), content_type="application/json"
        )
        self.requests += 1
        if response.status_code not in (200, 201):
            raise Refused(f"{table} {row['id']}: {response.status_code} {response.content[:2000]}")
        data = response.json()
        self.ids[row["id"]] = data["id"]
        return data

    def enter(self, *, status: str = "published") -> dict[str, str]:
        """Write every record of the package; the package's ids mapped to the API's."""
        self_linked = {"organizations": "parent", "places": "parent"}
        for table in ENDPOINTS:
            rows = self.tables.get(table, [])
            if table in self_linked:
                rows = in_link_order(rows, self_linked[table])
            for row in rows:
                self.put(table, row, status)
        return self.ids


def enter_package(client, directory: Path, *, system: str = "package") -> PackageWriter:
    writer = PackageWriter(client, read_package(directory), system=system)
    writer.enter()
    return writer
