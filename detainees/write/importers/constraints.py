"""The database's rules, checked on an import's rows before anything is written.

So that one run lists every problem, the first pass holds the rows to each table's unique
constraints (within the files, and against the records stored: one query per table,
constraint and chunk of rows, never one per row), to the CHECK constraints whose condition
can be read in Python from the row's own values, and to the place tree (a place in another
country than its parent). What cannot be judged here (a condition on values the record derives
when saved, a row that leaves a constrained column as stored) is left to the write pass, which
collects its refusals too.

Rows are duck-typed `generic.Row`s: `table`, `where`, `values`, `key`, `public_id`, `exists`,
`resolved`.
"""

import operator
from collections import defaultdict
from functools import reduce

from django.db.models import CheckConstraint, Q

from detainees.domain.constraints import Unknown, evaluate, unique_rules
from detainees.domain.constraints import comparable as _comparable
from detainees.domain.models import Place

CHUNK = 1000
# Existing records a refusal names by their label too (past these, by public id only).
LABELLED = 200
# Filled by save() or the database, not by the file.
NOT_FROM_FILE = ("public_id", "slug", "search_key")
# Within the files, the importer's names rule says it first, naming every primary name
# (`generic._check_names`); against stored names it is checked here.
IN_FILE_ELSEWHERE = frozenset({"personname_one_primary_per_person"})


def _line(where: str) -> str:
    """ "line 14 of places.csv" for "places.csv, line 14"; other places as they are."""
    name, _, line = where.rpartition(", ")
    return f"{line} of {name}" if name and line.startswith("line ") else where


def _fields(table) -> dict:
    """{model field name: column} for the columns the file can fill."""
    return {c.field: c for c in table.columns if c.type != "id" and c.field not in NOT_FROM_FILE}


def row_state(row, ids) -> dict | None:
    """{field: value} the row's record will have, for the fields the file can fill.

    References become the public id of the record they name. A row updating a record may
    leave fields as stored: those are missing. None: the row is not checked here.
    """
    model = row.table.model
    state = {}
    for name, column in _fields(row.table).items():
        if column.name not in row.values:
            if row.exists:
                continue
            value = None
        else:
            value = row.values[column.name]
        if column.type == "ref":
            if value is not None:
                value = ids.get((column.ref, value)) or row.resolved.get(column.name)
                if value is None:
                    return None
        elif value is None:
            model_field = model._meta.get_field(name)
            if not model_field.null:
                value = model_field.get_default()
        state[name] = value
    return state


def _lookup(model, name: str) -> str:
    field = model._meta.get_field(name)
    return f"{name}__public_id" if field.is_relation else name


def unique_problems(rows, ids) -> list[tuple[object, str]]:
    """(row, problem) for each row another row of the files or a stored record collides with."""
    problems = []
    by_table = defaultdict(list)
    for row in rows:
        by_table[row.table.name].append(row)
    states = {id(row): row_state(row, ids) for row in rows}
    in_file = {(row.table.name, row.public_id) for row in rows if row.exists}
    # The records stored already: a stored record can refer to none but these.
    stored = {row.public_id for row in rows if row.exists} | {
        p for row in rows for p in row.resolved.values() if p is not None
    }
    for table_rows in by_table.values():
        table = table_rows[0].table
        model = table.model
        for fields, condition, nulls_distinct, name, message in unique_rules(
            model, skip=NOT_FROM_FILE
        ):
            if any(f not in _fields(table) for f in fields):
                continue
            keyed = []
            for row in table_rows:
                state = states[id(row)]
                if state is None or any(f not in state for f in fields):
                    continue
                key = tuple(_comparable(state[f]) for f in fields)
                if nulls_distinct and None in key:
                    continue
                if condition is not None:
                    try:
                        if not evaluate(condition, state):
                            continue
                    except Unknown:
                        break  # left to the write pass for the whole table
                keyed.append((row, key))
            else:
                first = {}
                for row, key in keyed:
                    if key in first and name in IN_FILE_ELSEWHERE:
                        continue
                    if key in first:
                        problems.append((row, f"{message} (duplicates {_line(first[key].where)})"))
                    else:
                        first[key] = row
                refs = [i for i, f in enumerate(fields) if model._meta.get_field(f).is_relation]
                candidates = [
                    (key, row)
                    for key, row in first.items()
                    if all(key[i] is None or key[i] in stored for i in refs)
                ]
                problems += _stored_collisions(
                    model, fields, condition, candidates, in_file, table.name, message
                )
    return problems


def _stored_collisions(model, fields, condition, keyed, in_file, table_name, message):
    """(row, problem) for rows whose key a stored record (not changed by the files) holds."""
    found = {}
    lookups = [_lookup(model, f) for f in fields]
    for start in range(0, len(keyed), CHUNK):
        chunk = keyed[start : start + CHUNK]
        if len(fields) == 1 and all(key[0] is not None for key, _row in chunk):
            wanted = [Q(**{f"{lookups[0]}__in": [key[0] for key, _row in chunk]})]
        else:
            wanted = [
                Q(**{lk: v for lk, v in zip(lookups, key, strict=True) if v is not None})
                & Q(**{f"{f}__isnull": True for f, v in zip(fields, key, strict=True) if v is None})
                for key, _row in chunk
            ]
        query = model._default_manager.filter(reduce(operator.or_, wanted))
        if condition is not None:
            query = query.filter(condition)
        for public_id, *values in query.values_list("public_id", *lookups):
            found[tuple(_comparable(v) for v in values)] = public_id
    problems, labels = [], {}
    # A record the files change is held to its new values among the files' rows instead.
    hits = [
        (key, row)
        for key, row in keyed
        if found.get(key) not in (None, row.public_id) and (table_name, found[key]) not in in_file
    ]
    wanted = [found[key] for key, _row in hits[:LABELLED]]
    if wanted:
        labels = {
            p: str(obj)
            for p, obj in model._default_manager.in_bulk(wanted, field_name="public_id").items()
        }
    for key, row in hits:
        public_id = found[key]
        label = f" ({labels[public_id]})" if public_id in labels else ""
        name = model._meta.verbose_name
        problems.append((row, f"{message} (already exists as {name} {public_id}{label})"))
    return problems


def check_problems(rows, ids) -> list[tuple[object, str]]:
    """(row, problem) for each CHECK constraint a row's own values break."""
    problems = []
    checks = {}
    for row in rows:
        model = row.table.model
        if model not in checks:
            checks[model] = [c for c in model._meta.constraints if isinstance(c, CheckConstraint)]
        state = None
        for constraint in checks[model]:
            if state is None:
                state = row_state(row, ids)
                if state is None:
                    break
            try:
                if not evaluate(constraint.condition, state):
                    problems.append((row, constraint.get_violation_error_message()))
            except Unknown:
                continue
    return problems


def place_tree_problems(rows, ids) -> list[tuple[object, str]]:
    """(row, problem) for each place whose country is not its parent's (one query)."""
    places = [r for r in rows if r.table.model is Place and r.public_id is not None]
    if not places:
        return []
    by_id = {r.public_id: r for r in places}
    parents = {}
    for row in places:
        parent = row.values.get("parent")
        if parent:
            parents[row.public_id] = ids.get(("places", parent)) or row.resolved.get("parent")
    stored = {
        p: (_comparable(country) or "", name)
        for p, country, name in Place.objects.filter(
            public_id__in=[p for p in parents.values() if p not in by_id]
        ).values_list("public_id", "country", "name")
    }
    problems = []

    def country_of(public_id, seen=()):
        if public_id in by_id:
            row = by_id[public_id]
            own = row.values.get("country") or ""
            if own or public_id in seen:
                return own
            parent = parents.get(public_id)
            return country_of(parent, (*seen, public_id)) if parent else ""
        return stored.get(public_id, ("", ""))[0]

    for row in places:
        own, parent = row.values.get("country") or "", parents.get(row.public_id)
        if not own or parent is None:
            continue
        theirs = country_of(parent)
        if theirs and theirs != own:
            if parent in by_id:
                where = f"{by_id[parent].values.get('name')}, {_line(by_id[parent].where)}"
            else:
                where = stored.get(parent, ("", "?"))[1]
            problems.append((row, f"country: its parent ({where}) is in {theirs}, not in {own}"))
    return problems
