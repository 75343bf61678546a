"""The stored people list (`PersonListing`): the SQL computing its rows, and its upkeep.

A row holds what `detainees.listing.annotate_listing` computes for a published person, and
every value the person has in each facet of `detainees.filters.FACETS`, as "facet=value". The
SQL computing rows is generated from those same definitions, so the stored list and the
definitions cannot drift apart:

- `install()` (run after every `migrate`) writes the generated SQL into the function
  `detainees_refresh_listing(ids)`. When the definitions changed since the last install, it
  recomputes every row.
- Triggers on each table the rows are computed from (migration 0024) note the people a
  statement touches in `detainees_stalelisting`, then recompute their rows before the statement
  returns: the list is exact at every statement, inside transactions too.
- `deferred()` lets a bulk load collect the people it touches and recompute them once, at the
  end, in the same transaction.

A migration that changes a column the function reads must drop the function first
(`DROP FUNCTION detainees_refresh_listing(bigint[])`); the next `install()` recreates it.
"""

import hashlib
from contextlib import contextmanager

from django.db import connections, transaction

from detainees.models import FacetTotal, Person, PersonListing, StaleListing

FUNCTION = "detainees_refresh_listing(bigint[])"
COLUMNS = (
    "sort_name",
    "first_capture",
    "first_capture_date",
    "last_release",
    "last_release_date",
    "current_status",
)


def _literal(queryset, using="default") -> str:
    sql, params = queryset.query.get_compiler(using).as_sql()
    return connections[using].ops.compose_sql(sql, params)


def rows_sql(using="default") -> str:
    """SELECT of listing rows (person_id, *COLUMNS, facets) for the published people in `ids`."""
    from detainees.filters import FACETS
    from detainees.listing import annotate_listing

    people = annotate_listing(Person.objects.published()).order_by().values("id", *COLUMNS)
    branches = []
    for name, facet in FACETS.items():
        if name == "status":  # the current status, computed with the row's other columns
            continue
        for pairs in facet.pair_querysets():
            branches.append(
                f"SELECT pairs.person_key, '{name}=' || pairs.value::text "
                f"FROM ({_literal(pairs.order_by(), using)}) pairs "
                "WHERE pairs.value IS NOT NULL AND pairs.value::text <> ''"
            )
    union = " UNION ALL ".join(branches)
    columns = ", ".join(f"p.{c}" for c in COLUMNS)
    return (
        f"SELECT p.id, {columns}, "
        f"ARRAY(SELECT DISTINCT f.token FROM ({union}) f(person_key, token) "
        "WHERE f.person_key = p.id ORDER BY 1) || ('status=' || p.current_status) AS facets "
        f"FROM ({_literal(people, using)}) p"
    )


def function_sql(using="default") -> str:
    table = PersonListing._meta.db_table
    totals = FacetTotal._meta.db_table
    columns = ", ".join(("person_id", *COLUMNS, "facets"))
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in (*COLUMNS, "facets"))
    counted = (
        f"SELECT token, count(*) AS n FROM {table} l, unnest(l.facets) token "
        "WHERE l.person_id = ANY(ids) GROUP BY token"
    )
    return f"""
CREATE OR REPLACE FUNCTION {FUNCTION.replace("bigint[]", "ids bigint[]")}
RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
    UPDATE {totals} t SET people = t.people - d.n FROM ({counted}) d WHERE t.token = d.token;
    WITH fresh AS (
        INSERT INTO {table} ({columns})
        SELECT * FROM ({rows_sql(using)}) r WHERE r.id = ANY(ids)
        ON CONFLICT (person_id) DO UPDATE SET {updates}
        RETURNING person_id
    )
    DELETE FROM {table}
    WHERE person_id = ANY(ids) AND person_id NOT IN (SELECT person_id FROM fresh);
    INSERT INTO {totals} (token, people) {counted}
    ON CONFLICT (token) DO UPDATE SET people = {totals}.people + EXCLUDED.people;
    DELETE FROM {totals} WHERE people = 0;
END;
$fn$;
"""


def _version(sql: str) -> str:
    return hashlib.sha256(sql.encode()).hexdigest()[:16]


def install(using="default", *, verbosity=1) -> bool:
    """Install the refresh function from the current definitions; recompute every row when
    they changed since the last install. Returns whether it rebuilt."""
    sql = function_sql(using)
    version = _version(sql)
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT obj_description(to_regprocedure(%s), 'pg_proc')",
            [FUNCTION],
        )
        (installed,) = cursor.fetchone()
        if installed == version:
            return False
        cursor.execute(sql)
        cursor.execute(f"COMMENT ON FUNCTION {FUNCTION} IS %s", [version])
        rebuild(using=using)
    if verbosity:
        print("Rebuilt the stored people list.")
    return True


def rebuild(using="default") -> None:
    """Recompute every row (after a bulk load that switched the triggers off)."""
    table, totals = PersonListing._meta.db_table, FacetTotal._meta.db_table
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        cursor.execute(f"TRUNCATE {table}, {totals}, {StaleListing._meta.db_table}")
        cursor.execute(
            f"INSERT INTO {table} (person_id, {', '.join(COLUMNS)}, facets) {rows_sql(using)}"
        )
        cursor.execute(
            f"INSERT INTO {totals} (token, people) "
            f"SELECT token, count(*) FROM {table}, unnest(facets) token GROUP BY token"
        )
        cursor.execute(f"ANALYZE {table}, {totals}")


@contextmanager
def deferred(using="default"):
    """Inside: the triggers only note whom a statement touched. On leaving: their rows are
    recomputed at once. Must run inside a transaction (the setting is local to it)."""
    conn = connections[using]
    if not conn.in_atomic_block:
        raise RuntimeError("deferred() needs a transaction")
    with conn.cursor() as cursor:
        cursor.execute("SELECT set_config('detainees.defer_listing', 'on', true)")
    try:
        yield
    finally:
        with conn.cursor() as cursor:
            cursor.execute("SELECT set_config('detainees.defer_listing', 'off', true)")
            cursor.execute("SELECT detainees_listing_settle()")


def is_exact(using="default") -> bool:
    """Whether the stored rows and totals equal freshly computed ones (tests use it)."""
    table, totals = PersonListing._meta.db_table, FacetTotal._meta.db_table
    fresh = rows_sql(using)
    stored = f"SELECT person_id, {', '.join(COLUMNS)}, facets FROM {table}"
    fresh_totals = (
        f"SELECT token, count(*)::int FROM ({fresh}) r, unnest(r.facets) token GROUP BY token"
    )
    stored_totals = f"SELECT token, people FROM {totals}"
    with connections[using].cursor() as cursor:
        cursor.execute(
            f"SELECT NOT EXISTS (({fresh}) EXCEPT ({stored})) "
            f"AND NOT EXISTS (({stored}) EXCEPT ({fresh})) "
            f"AND NOT EXISTS (({fresh_totals}) EXCEPT ({stored_totals})) "
            f"AND NOT EXISTS (({stored_totals}) EXCEPT ({fresh_totals}))"
        )
        return cursor.fetchone()[0]
