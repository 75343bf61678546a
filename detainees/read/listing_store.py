"""The stored lists: a row per published person (`PersonListing`) and per public event
(`EventListing`), the SQL computing them, and their upkeep.

A person's row holds what `detainees.read.listing.annotate_listing` computes, the days its captures
and releases may have happened on (`date_spans`, the date filters' ranges), and every value the
person has in each facet of `detainees.read.facets.FACETS`, as "facet=value"; an event's row its
values in `EVENT_FACETS`. Totals per value (`FacetTotal`, `EventFacetTotal`) give the
unfiltered counts. The SQL computing rows is generated from those same facet definitions, so
the stored lists and the definitions cannot drift apart:

- `install()` (run after every `migrate`) writes the generated SQL into each list's function
  `detainees_refresh_<list>_list(ids)`. When the definitions changed since the last install,
  it recomputes every row of that list.
- Triggers on each table the rows are computed from (migration 0024) note the records a
  statement touches in the list's stale table, then recompute their rows before the statement
  returns: the lists are exact at every statement, inside transactions too. The triggers are
  written by hand; `unwatched()` lists every table and column the generated SQL reads that no
  installed trigger watches, and the tests require it to be empty, so a facet reading a new
  column fails there rather than going stale.
- `deferred()` lets a bulk load collect the records it touches and recompute them once, at the
  end, in the same transaction.

A migration that changes a column a refresh function reads must drop the function first
(`DROP FUNCTION detainees_refresh_people_list(bigint[])`); the next `install()` recreates it.
"""

import hashlib
import re
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import connections, transaction
from psycopg.pq import TransactionStatus

from detainees.domain.models import (
    EventFacetTotal,
    EventListing,
    FacetTotal,
    Person,
    PersonListing,
    StaleEventListing,
    StaleListing,
)
from detainees.read.facets import EVENT_FACETS, FACETS, Facet, public_events
from detainees.read.listing import annotate_listing, date_spans, deciding_events

COLUMNS = (
    "sort_name",
    "first_capture",
    "first_capture_date",
    "last_release",
    "last_release_date",
    "current_status",
    "is_detainee",
    "unnamed",
    "name_asc",
    "name_desc",
    # The events deciding the dates and the status, whose sources the row cites.
    "first_capture_event",
    "last_release_event",
    "status_event",
)
# Stored for the list's date filters, never shown: not among the columns a list row reads.
SPAN_COLUMNS = ("capture_spans", "release_spans")


def listed_people():
    """The people the stored list holds a row for, with its `COLUMNS` and `SPAN_COLUMNS`
    annotated."""
    return (
        annotate_listing(Person.objects.public())
        .annotate(**deciding_events())
        .annotate(**date_spans())
    )


@dataclass(frozen=True)
class Store:
    """A stored list: a row per listed record, its `columns`, and its facet values."""

    name: str
    model: type
    key: str  # the row's primary key column, the listed record's id
    columns: tuple[str, ...]
    records: Callable  # the listed records, with `columns` annotated
    facets: dict[str, Facet]
    totals: type
    count_column: str
    stale: type
    # A facet whose value is one of `columns` (computed with them), not from its pairs.
    column_facet: tuple[str, str] | None = None
    # (boolean column, totals column): the totals also count the rows with the column true,
    # the counts of a list that shows only those by default (the detainees among people).
    subset: tuple[str, str] | None = None

    def counts(self, alias: str) -> list[tuple[str, str]]:
        """The totals' count columns, each with the SQL counting it from the rows `alias`."""
        found = [(self.count_column, "count(*)")]
        if self.subset:
            column, counted = self.subset
            found.append((counted, f"count(*) FILTER (WHERE {alias}.{column})"))
        return found

    @property
    def function(self) -> str:
        return f"detainees_refresh_{self.name}_list(bigint[])"

    @property
    def settle(self) -> str:
        return f"detainees_settle_{self.name}_list()"


PEOPLE = Store(
    name="people",
    model=PersonListing,
    key="person_id",
    columns=COLUMNS + SPAN_COLUMNS,
    records=listed_people,
    facets=FACETS,
    totals=FacetTotal,
    count_column="people",
    stale=StaleListing,
    column_facet=("status", "current_status"),
    subset=("is_detainee", "detainees"),
)
EVENTS = Store(
    name="events",
    model=EventListing,
    key="event_id",
    columns=(),
    records=public_events,
    facets=EVENT_FACETS,
    totals=EventFacetTotal,
    count_column="events",
    stale=StaleEventListing,
)
STORES = (PEOPLE, EVENTS)


def _literal(queryset, using="default") -> str:
    sql, params = queryset.query.get_compiler(using).as_sql()
    return connections[using].ops.compose_sql(sql, params)


def _pairs(store: Store) -> list[tuple[Facet, object]]:
    """Each facet stored from its pairs (not from a column), with each queryset of its pairs."""
    return [
        (facet, pairs)
        for name, facet in store.facets.items()
        if not (store.column_facet and name == store.column_facet[0])
        for pairs in facet.pair_querysets()
    ]


def _parts(store: Store, using: str) -> tuple[str, str, str, str]:
    """The listed records' SQL, the union of their (record, "facet=value") pairs, the extra
    columns and the token added from a column."""
    records = store.records().order_by().values("id", *store.columns)
    branches = [
        f"SELECT pairs.{facet.key}, '{facet.name}=' || pairs.value::text "  # noqa: S608 (built from facet definitions in code)
        f"FROM ({_literal(pairs.order_by(), using)}) pairs "
        "WHERE pairs.value IS NOT NULL AND pairs.value::text <> ''"
        for facet, pairs in _pairs(store)
    ]
    columns = "".join(f"p.{c}, " for c in store.columns)
    extra = ""
    if store.column_facet:
        name, column = store.column_facet
        extra = f" || ('{name}=' || p.{column})"
    return _literal(records, using), " UNION ALL ".join(branches), columns, extra


def rows_sql(store: Store = PEOPLE, using="default") -> str:
    """SELECT of stored rows (id, *columns, facets) for every listed record, each record's
    values gathered by a subquery: what the triggers run for a few records at a time."""
    records, union, columns, extra = _parts(store, using)
    return (
        f"SELECT p.id, {columns}"  # noqa: S608 (built from facet definitions in code)
        f"ARRAY(SELECT DISTINCT f.token FROM ({union}) f(record, token) "
        f"WHERE f.record = p.id ORDER BY 1){extra} AS facets "
        f"FROM ({records}) p"
    )


def all_rows_sql(store: Store = PEOPLE, using="default", *, ids: str = "") -> str:
    """The same rows as `rows_sql`, every record's values gathered by one grouping: what a
    rebuild of the whole list runs; with `ids` (an SQL array), only those records, each pair
    query reading them through its index, whatever plan PostgreSQL caches for the function."""
    records, union, columns, extra = _parts(store, using)
    only_records = f" WHERE p.id = ANY({ids})" if ids else ""
    only_pairs = f" WHERE f.record = ANY({ids})" if ids else ""
    return (
        f"SELECT p.id, {columns}COALESCE(t.tokens, '{{}}'::text[]){extra} AS facets "  # noqa: S608 (built from facet definitions in code)
        f"FROM ({records}) p LEFT JOIN ("
        f"SELECT f.record, array_agg(DISTINCT f.token ORDER BY f.token) AS tokens "
        f"FROM ({union}) f(record, token){only_pairs} GROUP BY f.record"
        f") t ON t.record = p.id{only_records}"
    )


def function_sql(store: Store = PEOPLE, using="default") -> str:
    table, key = store.model._meta.db_table, store.key
    totals, n = store.totals._meta.db_table, store.count_column
    counts = store.counts("l")
    columns = ", ".join((key, *store.columns, "facets"))
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in (*store.columns, "facets"))
    counted_columns = ", ".join(f"{sql} AS {name}" for name, sql in counts)
    counted = (
        f"SELECT token, {counted_columns} FROM {table} l, unnest(l.facets) token "  # noqa: S608 (built from facet definitions in code)
        f"WHERE l.{key} = ANY(ids) GROUP BY token"
    )
    names = ", ".join(name for name, _ in counts)
    less = ", ".join(f"{name} = t.{name} - d.{name}" for name, _ in counts)
    more = ", ".join(f"{name} = {totals}.{name} + EXCLUDED.{name}" for name, _ in counts)
    return f"""
CREATE OR REPLACE FUNCTION {store.function.replace("bigint[]", "ids bigint[]")}
RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
    UPDATE {totals} t SET {less} FROM ({counted}) d WHERE t.token = d.token;
    WITH fresh AS (
        INSERT INTO {table} ({columns})
        SELECT * FROM ({all_rows_sql(store, using, ids="ids")}) r
        ON CONFLICT ({key}) DO UPDATE SET {updates}
        RETURNING {key}
    )
    DELETE FROM {table} WHERE {key} = ANY(ids) AND {key} NOT IN (SELECT {key} FROM fresh);
    INSERT INTO {totals} (token, {names}) {counted}
    ON CONFLICT (token) DO UPDATE SET {more};
    DELETE FROM {totals} WHERE {n} = 0;
END;
$fn$;
"""  # noqa: S608 (built from facet definitions in code)


def _version(sql: str) -> str:
    return hashlib.sha256(sql.encode()).hexdigest()[:16]


def install(using="default", *, verbosity=1) -> bool:
    """Install each store's refresh function from the current definitions; recompute every
    row of a store whose definitions changed since the last install. Returns whether any did."""
    rebuilt = False
    for store in STORES:
        sql = function_sql(store, using)
        version = _version(sql)
        with transaction.atomic(using=using), connections[using].cursor() as cursor:
            cursor.execute(
                "SELECT obj_description(to_regprocedure(%s), 'pg_proc')", [store.function]
            )
            if cursor.fetchone()[0] == version:
                continue
            cursor.execute(sql)
            cursor.execute(f"COMMENT ON FUNCTION {store.function} IS %s", [version])
            rebuild(store, using=using)
        rebuilt = True
        if verbosity:
            print(f"Rebuilt the stored {store.name} list.")
    return rebuilt


def rebuild(store: Store | None = None, using="default") -> None:
    """Recompute every row of `store` (of both when None), after a bulk load that switched
    the triggers off."""
    for each in [store] if store else STORES:
        table, key = each.model._meta.db_table, each.key
        totals = each.totals._meta.db_table
        with transaction.atomic(using=using), connections[using].cursor() as cursor:
            cursor.execute(f"TRUNCATE {table}, {totals}, {each.stale._meta.db_table}")
            columns = ", ".join((key, *each.columns, "facets"))
            cursor.execute("SET LOCAL work_mem = '256MB'")
            cursor.execute(f"INSERT INTO {table} ({columns}) {all_rows_sql(each, using)}")
            counts = each.counts(table)
            names = ", ".join(name for name, _ in counts)
            counted = ", ".join(sql for _, sql in counts)
            cursor.execute(
                f"INSERT INTO {totals} (token, {names}) "  # noqa: S608 (built from facet definitions in code)
                f"SELECT token, {counted} FROM {table}, unnest(facets) token GROUP BY token"
            )
            cursor.execute(f"ANALYZE {table}, {totals}")


@contextmanager
def deferred(using="default"):
    """Inside: the triggers only note which records a statement touched. On leaving: their
    rows are recomputed at once. Must run inside a transaction (the setting is local to it)."""
    conn = connections[using]
    if not conn.in_atomic_block:
        raise RuntimeError("deferred() needs a transaction")
    with conn.cursor() as cursor:
        cursor.execute("SELECT set_config('detainees.defer_listing', 'on', true)")
    try:
        yield
    finally:
        # After an error that aborted the transaction nothing can be written, nor committed.
        if conn.connection.info.transaction_status != TransactionStatus.INERROR:
            with conn.cursor() as cursor:
                cursor.execute("SELECT set_config('detainees.defer_listing', 'off', true)")
                for store in STORES:
                    cursor.execute(f"SELECT {store.settle}")


def is_exact(store: Store | None = None, using="default") -> bool:
    """Whether the stored rows and totals equal freshly computed ones (tests use it)."""
    for each in [store] if store else STORES:
        table, key = each.model._meta.db_table, each.key
        fresh = rows_sql(each, using)
        stored = f"SELECT {', '.join((key, *each.columns, 'facets'))} FROM {table}"  # noqa: S608 (built from facet definitions in code)
        counts = each.counts("r")
        counted = ", ".join(f"{sql}::int" for _, sql in counts)
        fresh_totals = (
            f"SELECT token, {counted} FROM ({fresh}) r, unnest(r.facets) token GROUP BY token"  # noqa: S608 (built from facet definitions in code)
        )
        names = ", ".join(name for name, _ in counts)
        stored_totals = f"SELECT token, {names} FROM {each.totals._meta.db_table}"  # noqa: S608 (built from facet definitions in code)
        with connections[using].cursor() as cursor:
            cursor.execute(
                f"SELECT NOT EXISTS (({fresh}) EXCEPT ({stored})) "
                f"AND NOT EXISTS (({stored}) EXCEPT ({fresh})) "
                f"AND NOT EXISTS (({fresh_totals}) EXCEPT ({stored_totals})) "
                f"AND NOT EXISTS (({stored_totals}) EXCEPT ({fresh_totals}))"
            )
            if not cursor.fetchone()[0]:
                return False
    return True


# --- What the lists are computed from, and what their triggers watch ----------------------------
# The triggers (migration 0024) were written by hand, table by table. A facet or column that
# starts reading another table or column would leave the lists stale, silently, so the tests
# compare the two, both read from PostgreSQL: what the computing SQL depends on, and what the
# installed triggers fire on.

COLUMNS_READER = "columns"  # the reader of the listed records and their `columns`
VIEW = "detainees_listing_reads"
# pg_trigger.tgtype bits (PostgreSQL's include/catalog/pg_trigger.h)
TRIGGER_INSERT, TRIGGER_DELETE, TRIGGER_UPDATE = 4, 8, 16
EVERY_COLUMN = "*"


@dataclass(frozen=True, order=True)
class Read:
    """A table, or a column of it, that a stored list is computed from, and who reads it: a
    facet's name, or `COLUMNS_READER`. `column` is "" for the table itself (its rows)."""

    reader: str
    table: str
    column: str = ""

    def __str__(self):
        what = f"{self.table}.{self.column}" if self.column else self.table
        return f"{self.reader} reads {what}"


def _readers(store: Store) -> list[tuple[str, object]]:
    """Each reader's querysets, selecting only what the list stores: the record and its value
    (a pair's label is not stored: the counts read names when they are shown)."""
    readers = [(COLUMNS_READER, store.records().order_by().values("id", *store.columns))]
    readers += [(f.name, pairs.order_by().values(f.key, "value")) for f, pairs in _pairs(store)]
    return readers


def reads(store: Store, using="default") -> set[Read]:
    """Every table and column the SQL computing `store`'s rows reads, as PostgreSQL resolves
    it: the dependencies it records for a temporary view of each reader's SQL (columns read
    in joins, conditions and subqueries included)."""
    found = set()
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        for reader, queryset in _readers(store):
            cursor.execute(f"CREATE TEMPORARY VIEW {VIEW} AS {_literal(queryset, using)}")
            cursor.execute(
                "SELECT DISTINCT c.relname, COALESCE(a.attname, '') FROM pg_depend d "
                "JOIN pg_rewrite r ON r.oid = d.objid "
                "JOIN pg_class c ON c.oid = d.refobjid AND c.relkind IN ('r', 'p') "
                "LEFT JOIN pg_attribute a ON d.refobjsubid > 0 "
                "AND a.attrelid = d.refobjid AND a.attnum = d.refobjsubid "
                "WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass "
                "AND r.ev_class = %s::regclass",
                [VIEW],
            )
            found.update(Read(reader, table, column) for table, column in cursor.fetchall())
            cursor.execute(f"DROP VIEW {VIEW}")
    return found


def watched(store: Store, using="default") -> dict[str, set[str]]:
    """Per table, the columns whose change the installed, enabled triggers recompute `store`'s
    rows for: `EVERY_COLUMN` when every insert, update and delete does; else the columns an
    update must change (a trigger's `UPDATE OF` columns, or those its function compares, as
    0024's functions for the records the lists name by slug: organizations, facilities,
    places, which a new row names nothing yet and whose deleted rows delete what names them)."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, t.tgtype, p.prosrc, ARRAY(SELECT a.attname FROM pg_attribute a "
            "WHERE a.attrelid = t.tgrelid AND a.attnum = ANY(t.tgattr))::text[] "
            "FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_proc p ON p.oid = t.tgfoid "
            "WHERE NOT t.tgisinternal AND t.tgenabled <> 'D' AND strpos(p.prosrc, %s) > 0",
            [store.settle],
        )
        triggers = cursor.fetchall()
    operations: dict[str, set[int]] = {}
    columns: dict[str, set[str]] = {}
    for table, kind, source, update_of in triggers:
        for operation in (TRIGGER_INSERT, TRIGGER_DELETE, TRIGGER_UPDATE):
            if kind & operation:
                operations.setdefault(table, set()).add(operation)
        if kind & TRIGGER_UPDATE:
            compared = re.search(r"\(([^()]*)\)\s+IS DISTINCT FROM", source)
            if update_of:
                columns.setdefault(table, set()).update(update_of)
            elif compared:
                names = (c.strip().partition(".")[2] for c in compared[1].split(","))
                columns.setdefault(table, set()).update(names)
            else:
                columns.setdefault(table, set()).add(EVERY_COLUMN)
    every = {TRIGGER_INSERT, TRIGGER_DELETE, TRIGGER_UPDATE}
    return {
        table: {EVERY_COLUMN}
        if operations[table] == every and EVERY_COLUMN in cols
        else cols - {EVERY_COLUMN}
        for table, cols in columns.items()
    }


def unwatched(store: Store, using="default") -> list[Read]:
    """What `store` is computed from that no installed trigger of it watches: each is a change
    that would leave the list stale. A table's primary key is never updated, so never needs
    watching."""
    found = reads(store, using)
    watching = watched(store, using)
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, a.attname FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid "
            "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
            "WHERE i.indisprimary AND c.relname = ANY(%s)",
            [sorted({r.table for r in found})],
        )
        keys = set(cursor.fetchall())
    return sorted(
        r
        for r in found
        if r.table not in watching
        or (
            r.column
            and (r.table, r.column) not in keys
            and not watching[r.table] & {EVERY_COLUMN, r.column}
        )
    )
