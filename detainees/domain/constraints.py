"""The database's rules on a table, judged in Python on rows not yet written.

A model's CHECK and UNIQUE constraints are judged by Django one query per constraint per row
(`Model.validate_constraints`). Whoever writes many rows at once (an import, a record's list
of names or people) judges them here instead: the conditions Python can read from the row's
own values (exact, `in`, `isnull` and comparisons, against values or other fields), in memory;
what it cannot read (a database function, a regular expression) for all the rows in one
query.
"""

import operator

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import BooleanField, F, Q, UniqueConstraint, Value
from django.db.models.functions import Coalesce
from django.db.models.sql import Query

COMPARISONS = {
    "exact": operator.eq,
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}
# Rows whose conditions one query judges: each adds a few parameters, well below the 65,535 a
# PostgreSQL statement takes.
SQL_CHUNK = 500


class Unknown(Exception):
    """A condition this module cannot evaluate from the row alone."""


def comparable(value):
    return getattr(value, "code", value)  # a Country compares by its code


def _leaf(child, state: dict) -> bool | None:
    """One lookup of a Q over `state`: True, False, or None where SQL compares with NULL."""
    lookup, expected = child
    name, _, kind = lookup.partition("__")
    kind = kind or "exact"
    if name not in state:
        raise Unknown
    value = state[name]
    if kind == "exact" and expected is None:
        kind, expected = "isnull", True  # as Django reads `field=None`
    if isinstance(expected, F):
        if expected.name not in state:
            raise Unknown
        expected = state[expected.name]
    elif not isinstance(expected, str | int | float | bool | type(None) | list | tuple):
        raise Unknown
    if kind == "isnull":
        return (value is None) == bool(expected)
    if kind == "in":
        return None if value is None else value in expected
    if kind in COMPARISONS:
        if value is None or expected is None:
            return None
        try:
            return COMPARISONS[kind](comparable(value), comparable(expected))
        except TypeError:
            raise Unknown from None
    raise Unknown


def evaluate(condition, state: dict) -> bool:
    """A Q of exact, isnull and comparison lookups (against values or F()) over `state`; a
    comparison with a missing value is false."""
    if not isinstance(condition, Q):
        raise Unknown
    results = []
    for child in condition.children:
        if isinstance(child, Q):
            results.append(evaluate(child, state))
        else:
            results.append(bool(_leaf(child, state)))
    combined = all(results) if condition.connector == Q.AND else any(results)
    return not combined if condition.negated else combined


def holds(condition, state: dict) -> bool | None:
    """`condition` over `state` as SQL judges it: True, False, or None (unknown, NULL), which
    a CHECK constraint lets pass."""
    if not isinstance(condition, Q):
        raise Unknown
    results = [
        holds(child, state) if isinstance(child, Q) else _leaf(child, state)
        for child in condition.children
    ]
    if condition.connector == Q.AND:
        combined = False if False in results else (None if None in results else True)
    else:
        combined = True if True in results else (None if None in results else False)
    if condition.negated and combined is not None:
        return not combined
    return combined


def unique_rules(model, skip=()) -> list[tuple[tuple[str, ...], Q | None, bool, str, str]]:
    """(fields, condition, nulls_distinct, name, message) of each unique rule of `model`, but
    of its fields in `skip` (those filled by `save()` or the database)."""
    out = []
    for f in model._meta.concrete_fields:
        if f.unique and not f.primary_key and f.name not in skip:
            message = f"{model._meta.verbose_name} with this {f.verbose_name} already exists."
            out.append(((f.name,), None, True, f.name, message))
    for constraint in model._meta.constraints:
        if isinstance(constraint, UniqueConstraint) and constraint.fields:
            if constraint.expressions or constraint.include:
                continue
            out.append(
                (
                    tuple(constraint.fields),
                    constraint.condition,
                    constraint.nulls_distinct is not False,
                    constraint.name,
                    constraint.get_violation_error_message(),
                )
            )
    for together in model._meta.unique_together:
        out.append((tuple(together), None, True, "_".join(together), "already exists"))
    return out


def row_state(row) -> dict:
    """{field name and column: value} of a model instance, as `holds` reads it."""
    state = {}
    for f in row._meta.concrete_fields:
        value = comparable(getattr(row, f.attname))
        state[f.name] = state[f.attname] = value
    return state


def holds_in_database(condition, rows, using=DEFAULT_DB_ALIAS) -> list[bool]:
    """Whether `condition` holds for each of `rows` (instances not yet written), as Django's
    `Q.check` asks the database for one row, for all of them in one query per chunk."""
    connection = connections[using]
    answers = []
    for start in range(0, len(rows), SQL_CHUNK):
        parts, params = [], []
        for row in rows[start : start + SQL_CHUNK]:
            against = row._get_field_expression_map(meta=row._meta, exclude=set())
            # A condition may name a link by its column (`person_id`), as the database does.
            for f in row._meta.concrete_fields:
                if f.attname != f.name and f.name in against:
                    against[f.attname] = against[f.name]
            query = Query(None)
            for name, value in against.items():
                if not hasattr(value, "resolve_expression"):
                    value = Value(value)
                query.add_annotation(value, name, select=False)
            query.add_annotation(Value(1), "_check")
            query.add_q(Q(Coalesce(Q(condition), True, output_field=BooleanField())))
            sql, row_params = query.get_compiler(connection=connection).as_sql()
            parts.append(f"EXISTS({sql})")
            params += row_params
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT ARRAY[{', '.join(parts)}]", params)  # noqa: S608
            answers += cursor.fetchone()[0]
    return answers
