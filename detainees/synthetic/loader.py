"""Writing synthetic rows into PostgreSQL with COPY, in one transaction.

`bulk_load_session()` is the one place that opens the load. For the length of the
transaction, and so never visibly to other sessions, it

- switches off the tables' user-defined triggers: tombstones, and any audit-history trigger a
  later migration adds (a synthetic load is not a change anyone made);
- drops their foreign keys and secondary indexes, and puts them back, unchanged, once the rows
  are in: one index build and one join per foreign key are many times faster than maintaining
  them row by row (a third of the load time at 100,000 events). Putting them back checks
  every reference and every unique index, so the load still fails on any inconsistency.

Primary keys, unique and exclusion constraints and CHECK constraints stay in place throughout.
"""

from contextlib import contextmanager

from django.apps import apps
from django.db import connection, models, transaction

from detainees.domain.models import (
    Affiliation,
    BatchMembership,
    Citation,
    Event,
    EventFacetTotal,
    EventListing,
    EventOrganization,
    EventPerson,
    FacetTotal,
    Facility,
    FacilityControl,
    Nationality,
    Organization,
    OrganizationName,
    Person,
    PersonListing,
    PersonName,
    PersonNameKey,
    Place,
    Publishable,
    ReleaseBatch,
    Source,
    StaleEventListing,
    StaleListing,
    Tombstone,
)

from .generator import MARKER

# Parents before children, so a reader of the tables mid-load would see no dangling reference.
LOAD_ORDER = (
    Place,
    Organization,
    OrganizationName,
    Facility,
    FacilityControl,
    Source,
    ReleaseBatch,
    Person,
    PersonName,
    Nationality,
    Affiliation,
    Event,
    EventPerson,
    EventOrganization,
    BatchMembership,
    Citation,
)
# Tombstones of synthetic records go with them; see check_only_synthetic().
REPLACED = (*LOAD_ORDER, Tombstone)


class RealDataPresent(Exception):
    """The database holds records generate_dataset did not write; str() says which."""


def publishable_models() -> list[type[models.Model]]:
    """Every concrete Publishable model of the project, including ones added later."""
    return [
        model
        for model in apps.get_models()
        if issubclass(model, Publishable) and not model._meta.abstract
    ]


def check_only_synthetic() -> None:
    """Raise RealDataPresent unless every record in the database is synthetic.

    A record is synthetic when its internal notes start with MARKER; a tombstone when the
    public id it keeps is a version-8 UUID, which only the generator makes. Rows without
    notes of their own (names, citations, links) belong to records and go with them.
    """
    found = []
    for model in publishable_models():
        count = model._base_manager.exclude(internal_notes__startswith=MARKER).count()
        if count:
            found.append(f"{count} {model._meta.verbose_name_plural}")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM {connection.ops.quote_name(Tombstone._meta.db_table)} "  # noqa: S608 (names from the models)
            "WHERE substr(public_id::text, 15, 1) <> '8'"
        )
        (tombstones,) = cursor.fetchone()
    if tombstones:
        found.append(f"{tombstones} tombstones of records it did not write")
    if found:
        raise RealDataPresent(
            "The database holds records that generate_dataset did not write "
            f"({', '.join(found)}). It only ever replaces its own synthetic data; "
            "use an empty database (e.g. `make clean-data`, then `make dataset`)."
        )


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


@contextmanager
def bulk_load_session(tables=LOAD_ORDER):
    """A transaction for COPYing into `tables`, their user triggers off and their foreign keys
    and secondary indexes set aside until the end; yields a cursor.

    The ALTER TABLEs take an exclusive lock on each table until commit: loads are for
    databases nobody else is writing to.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        names = [model._meta.db_table for model in tables]
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        cursor.execute(
            "SELECT conrelid::regclass::text, quote_ident(conname), pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY(%s::regclass[]) "
            "ORDER BY conrelid::regclass::text, conname",
            [names],
        )
        foreign_keys = cursor.fetchall()
        # Indexes that back no constraint (primary, unique, exclusion): plain indexes, and the
        # partial unique indexes UniqueConstraint(condition=...) creates.
        cursor.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "WHERE i.indrelid = ANY(%s::regclass[]) AND NOT EXISTS ("
            "  SELECT 1 FROM pg_constraint c"
            "  WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid"
            ") ORDER BY 1",
            [names],
        )
        indexes = cursor.fetchall()
        for model in tables:
            cursor.execute(f"ALTER TABLE {_table(model)} DISABLE TRIGGER USER")
        for table, name, _ in foreign_keys:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {name}")
        yield cursor
        for _, definition in indexes:
            cursor.execute(definition)
        for table, name, definition in foreign_keys:
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
        for model in tables:
            cursor.execute(f"ALTER TABLE {_table(model)} ENABLE TRIGGER USER")


def replace_all(cursor) -> None:
    """Empty the synthetic tables (call check_only_synthetic() first), and any other table
    whose foreign keys point at them, if it is empty; RealDataPresent if it holds rows, which
    this module knows nothing of and never deletes."""
    names = [model._meta.db_table for model in REPLACED]
    cursor.execute(
        "SELECT DISTINCT conrelid::regclass::text FROM pg_constraint WHERE contype = 'f' "
        "AND confrelid = ANY(%s::regclass[]) AND NOT conrelid = ANY(%s::regclass[]) ORDER BY 1",
        [names, names],
    )
    others = [table for (table,) in cursor.fetchall()]
    for table in others:
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {table})")  # noqa: S608 (names from the models)
        if cursor.fetchone()[0]:
            raise RealDataPresent(
                f"The table {table} refers to the records generate_dataset replaces and holds "
                "rows it did not write; use an empty database."
            )
    # And what is derived from them: the stored lists (rebuilt after a load) and the name keys.
    derived = [
        PersonListing,
        FacetTotal,
        StaleListing,
        EventListing,
        EventFacetTotal,
        StaleEventListing,
        PersonNameKey,
    ]
    tables = ", ".join([*(_table(model) for model in [*REPLACED, *derived]), *others])
    cursor.execute(f"TRUNCATE {tables} RESTART IDENTITY")


class TableCopier:
    """COPYs row dicts into one model's table; columns the rows leave out get the field's
    default, so a column added later with a default needs no change here."""

    def __init__(self, model):
        self.model = model
        fields = [f for f in model._meta.concrete_fields if not f.generated]
        self.spec = [(f.attname, f.get_default()) for f in fields]
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        self.sql = f"COPY {_table(model)} ({columns}) FROM STDIN"
        self.count = 0

    def copy(self, cursor, rows) -> None:
        if not rows:
            return
        spec = self.spec
        with cursor.copy(self.sql) as copy:
            write = copy.write_row
            for row in rows:
                get = row.get
                write([get(name, default) for name, default in spec])
        self.count += len(rows)


def reset_sequences(cursor, models_) -> None:
    """Point each table's id sequence past the ids the load wrote."""
    for model in models_:
        pk = model._meta.pk.column
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence(%s, %s), coalesce(max({pk}), 0) + 1, false) "  # noqa: S608 (names from the models)
            f"FROM {_table(model)}",
            [model._meta.db_table, pk],
        )


def analyze(models_) -> None:
    """Fresh planner statistics, so the first queries after a load pick the indexes."""
    with connection.cursor() as cursor:
        for model in models_:
            cursor.execute(f"ANALYZE {_table(model)}")
