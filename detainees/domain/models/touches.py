"""What each public row shows of other records, and the triggers that move its `updated` time.

A mirror keeps up with `changes/?since=T` and each list's `?updated_since=T`, so a row's
`updated` must move whenever anything the row shows changes, not only its own columns: an event
row shows its organizations' names, a person's row dates derived from the events, a facility its
controllers, and every citation its source's title. `SHOWN_IN` says, per table, which rows show
its rows and how to reach them; `triggers()` turns each entry into PostgreSQL triggers, so the
rule holds whatever makes the change (admin, API, importers, the shell, `update()`, raw SQL).

- A record others link to (an organization, a place, a source...) touches the rows linking it when
  it is updated; nothing links to a new one yet, and PROTECT keeps a linked one from deletion.
- A part of a row (a name, a citation, an event's link to a person...) touches its row when it
  is added, changed or removed; a part moved to another row touches both.
- A change that history does not record (`updated` alone, the derived search keys) touches
  nothing: touching a row is such a change, so touches never cascade, and each entry lists the
  whole way from the changed table to the row it moves (`EMBEDDED` adds the ways through an
  event to the people whose timeline shows it).
- Touches are statement-level, with transition tables: a rename touching ten thousand events is
  one UPDATE per table reached, each step read through the foreign key's index. A row already
  changed in the same transaction is left as it is.

Each table a row is read from also gets a row trigger moving its own `updated` when a statement
changes its columns without setting it (queryset `update()`, SQL), as a save does.
"""

from dataclasses import dataclass, replace

import pgtrigger

from .history import NOT_RECORDED

# Not part of what a row shows: `updated` itself, and the search columns derived from names.
# The columns history leaves out, so that a touch records no history either.
NOT_SHOWN = tuple(sorted(NOT_RECORDED))

# The rows the API serves and mirrors sync, each with its own `updated` time.
ROWS = (
    "person",
    "event",
    "organization",
    "place",
    "facility",
    "releasebatch",
    "source",
    "affiliation",
    "relationship",
)


# Each table's primary key, where it is not `id`.
KEYS = {"personlisting": "person_id"}


def table(name: str) -> str:
    return f"detainees_{name}"


def key(name: str) -> str:
    return KEYS.get(name, "id")


@dataclass(frozen=True)
class Hop:
    """One step from ids to ids: the rows of `table` whose `match` is among the ids so far,
    giving their `gives` column."""

    table: str
    match: str
    gives: str


def via(name: str, match: str, gives: str) -> Hop:
    return Hop(name, match, gives)


@dataclass(frozen=True)
class Shown:
    """Rows of `row` show part of the changed table's rows: its column `start` leads to them
    through `hops` ("id" when the row links to the changed record; the part's own link to its
    row otherwise). With `columns`, only a change of these columns is shown; with `only`, only
    changed rows meeting the condition (on `r`, the changed row) are."""

    row: str
    start: str
    hops: tuple[Hop, ...] = ()
    columns: tuple[str, ...] = ()
    only: str = ""

    @property
    def is_part(self) -> bool:
        """Whether the changed row is a part of `row` (so adding or removing it shows)."""
        return self.start != "id"


def shown(row: str, start: str, *hops: Hop, columns: tuple[str, ...] = (), only: str = ""):
    return Shown(row, start, hops, columns, only)


# What a person's name in another record's row depends on: `Person.display_name` reads the
# primary name, else says the name is withheld or unknown by the public id; a link to a person
# who is not published shows nothing. A relative's link also shows the page's address (slug).
PERSON_AS_NAMED = ("status", "withheld", "public_id")
PERSON_AS_RELATIVE = (*PERSON_AS_NAMED, "slug")
PERSON_AS_TIED = (*PERSON_AS_NAMED, "gender")
EVENTS_OF_PERSON = via("eventperson", "person_id", "event_id")
MEMBERSHIPS = via("batchmembership", "person_id", "batch_id")
PEOPLE_OF_EVENT = via("eventperson", "event_id", "person_id")
RELATIVES = (
    via("relationship", "person_id", "other_id"),
    via("relationship", "other_id", "person_id"),
)
CORRECTION_OF_PERSON = (
    "r.content_type_id = (SELECT ct.id FROM django_content_type ct "
    "WHERE ct.app_label = 'detainees' AND ct.model = 'person')"
)

# A citation shows its source (title, whether public) in the row of the fact it cites.
CITED_IN = (
    shown("person", "person_id"),
    shown("person", "person_name_id", via("personname", "id", "person_id")),
    shown("person", "nationality_id", via("nationality", "id", "person_id")),
    shown("person", "affiliation_id", via("affiliation", "id", "person_id")),
    shown("person", "batch_membership_id", via("batchmembership", "id", "person_id")),
    shown("person", "relationship_id", via("relationship", "id", "person_id")),
    shown("person", "relationship_id", via("relationship", "id", "other_id")),
    shown("affiliation", "affiliation_id"),
    shown("relationship", "relationship_id"),
    shown("releasebatch", "batch_id"),
    shown("releasebatch", "batch_membership_id", via("batchmembership", "id", "batch_id")),
    shown("event", "event_id"),
    shown("facility", "facility_control_id", via("facilitycontrol", "id", "facility_id")),
)

# Per changed table, the rows that show it (detainees.api.serializers: Ref links give a name
# and hide records that are not public; lists of parts are written out in the row).
SHOWN_IN: dict[str, tuple[Shown, ...]] = {
    # People: the list's names, dates and status (the stored listing, derived from the
    # timeline), the detail's names, nationalities, affiliations, batches, relatives, sources
    # and corrections. Events show their people's names, relatives each other's.
    "person": (
        shown("event", "id", EVENTS_OF_PERSON, columns=PERSON_AS_NAMED),
        *(shown("person", "id", hop, columns=PERSON_AS_RELATIVE) for hop in RELATIVES),
        shown("affiliation", "id", via("affiliation", "person_id", "id"), columns=PERSON_AS_NAMED),
        shown("releasebatch", "id", MEMBERSHIPS, columns=PERSON_AS_NAMED),
        # A relationship's labels ("son of") read the people's gender.
        *(
            shown("relationship", "id", via("relationship", side, "id"), columns=PERSON_AS_TIED)
            for side in ("person_id", "other_id")
        ),
    ),
    "personlisting": (
        shown(
            "person",
            "person_id",
            columns=(
                "sort_name",
                "first_capture",
                "first_capture_date",
                "last_release",
                "last_release_date",
                "current_status",
            ),
        ),
    ),
    "personname": (
        shown("person", "person_id"),
        shown("event", "person_id", EVENTS_OF_PERSON),
        *(shown("person", "person_id", hop) for hop in RELATIVES),
        shown("affiliation", "person_id", via("affiliation", "person_id", "id")),
        shown("releasebatch", "person_id", MEMBERSHIPS),
        *(
            shown("relationship", "person_id", via("relationship", side, "id"))
            for side in ("person_id", "other_id")
        ),
    ),
    "nationality": (shown("person", "person_id"),),
    "affiliation": (shown("person", "person_id"),),
    "relationship": (shown("person", "person_id"), shown("person", "other_id")),
    "batchmembership": (shown("person", "person_id"), shown("releasebatch", "batch_id")),
    "correction": (shown("person", "object_id", only=CORRECTION_OF_PERSON),),
    # Events: their people, organizations and citations are parts of the row.
    "eventperson": (shown("event", "event_id"), shown("person", "person_id")),
    "eventorganization": (shown("event", "event_id"),),
    "citation": CITED_IN,
    "source": (
        *(
            replace(s, start="id", hops=(via("citation", "source_id", s.start), *s.hops))
            for s in CITED_IN
        ),
    ),
    "organization": (
        shown("event", "id", via("eventorganization", "organization_id", "event_id")),
        shown("person", "id", via("affiliation", "organization_id", "person_id")),
        shown("affiliation", "id", via("affiliation", "organization_id", "id")),
        shown("organization", "id", via("organization", "parent_id", "id")),
        shown("facility", "id", via("facilitycontrol", "controller_id", "facility_id")),
        shown("releasebatch", "id", via("releasebatch", "ordered_by_id", "id")),
        shown("releasebatch", "id", via("releasebatch", "carried_out_by_id", "id")),
        shown("source", "id", via("source", "publisher_id", "id")),
        # A custody episode's custodians in the person's timeline: its facility's controllers.
        shown(
            "person",
            "id",
            via("facilitycontrol", "controller_id", "facility_id"),
            via("event", "facility_id", "id"),
            PEOPLE_OF_EVENT,
        ),
    ),
    "organizationname": (shown("organization", "organization_id"),),
    "place": (
        shown("event", "id", via("event", "place_id", "id")),
        shown("person", "id", via("person", "birthplace_id", "id")),
        shown("person", "id", via("affiliation", "place_id", "person_id")),
        shown("affiliation", "id", via("affiliation", "place_id", "id")),
        shown("place", "id", via("place", "parent_id", "id")),
        shown("facility", "id", via("facility", "place_id", "id")),
    ),
    "facility": (
        shown("event", "id", via("event", "facility_id", "id")),
        shown("event", "id", via("event", "from_facility_id", "id")),
    ),
    "facilityname": (shown("facility", "facility_id"),),
    "facilitycontrol": (
        shown("facility", "facility_id"),
        shown("person", "facility_id", via("event", "facility_id", "id"), PEOPLE_OF_EVENT),
    ),
    "releasebatch": (
        shown("event", "id", via("event", "batch_id", "id")),
        shown("person", "id", via("batchmembership", "batch_id", "person_id")),
    ),
}

# Rows written out whole inside another's: a person's timeline is the person's events, each as
# the events list gives it (its `updated` included). Whatever an event row shows, and the event
# itself, the rows of its people show too.
EMBEDDED = {"event": ("person", PEOPLE_OF_EVENT)}


def _embedded(shown_in: dict[str, tuple[Shown, ...]]) -> dict[str, tuple[Shown, ...]]:
    full = {name: list(entries) for name, entries in shown_in.items()}
    for inner, (outer, hop) in EMBEDDED.items():
        full.setdefault(inner, []).append(shown(outer, "id", hop))
        for entries in full.values():
            entries += [
                replace(s, row=outer, hops=(*s.hops, hop)) for s in list(entries) if s.row == inner
            ]
    return {name: tuple(entries) for name, entries in full.items()}


TOUCHES = _embedded(SHOWN_IN)  # every way a change reaches a row, as the triggers follow them

# --- SQL -----------------------------------------------------------------------------------------

NEW, OLD = "new_rows", "old_rows"


def _differ(columns: tuple[str, ...], a: str, b: str) -> str:
    if columns:
        return " OR ".join(f"{a}.{c} IS DISTINCT FROM {b}.{c}" for c in columns)
    hidden = "'{" + ",".join(NOT_SHOWN) + "}'::text[]"
    return f"to_jsonb({a}) - {hidden} IS DISTINCT FROM to_jsonb({b}) - {hidden}"


def _starts(name: str, entry: Shown, operation: str) -> list[str]:
    """SELECTs of the `start` values of the rows a statement changed in a way `entry` shows."""
    only = f" AND ({entry.only})" if entry.only else ""
    if operation in ("INSERT", "DELETE"):
        rows = NEW if operation == "INSERT" else OLD
        return [f"SELECT r.{entry.start} FROM {rows} r WHERE true{only}"]  # noqa: S608 (built from SHOWN_IN)
    selects = [
        f"SELECT r.{entry.start} FROM {NEW} r JOIN {OLD} o ON o.{key(name)} = r.{key(name)} "  # noqa: S608 (built from SHOWN_IN)
        f"WHERE ({_differ(entry.columns, 'r', 'o')}){only}"
    ]
    if entry.is_part:  # moved to another row: the row it left changes too
        selects.append(
            f"SELECT r.{entry.start} FROM {OLD} r JOIN {NEW} n ON n.{key(name)} = r.{key(name)} "  # noqa: S608 (built from SHOWN_IN)
            f"WHERE ({_differ(entry.columns, 'n', 'r')}){only}"
        )
    return selects


def _reached(name: str, entry: Shown, operation: str) -> str:
    ids = " UNION ".join(_starts(name, entry, operation))
    for hop in entry.hops:
        ids = f"SELECT h.{hop.gives} FROM {table(hop.table)} h WHERE h.{hop.match} IN ({ids})"  # noqa: S608 (built from SHOWN_IN)
    return ids


def operations(name: str) -> list[str]:
    """What changes of `name`'s rows show: updates always; additions and removals of parts."""
    parts = any(entry.is_part for entry in TOUCHES.get(name, ()))
    return ["INSERT", "UPDATE", "DELETE"] if parts else ["UPDATE"]


# Set while the triggers touch rows: the touched tables' own triggers (these, and the stored
# lists' in migration 0039) then return at once, as a touch changes nothing they read. Comparing
# each touched row with its old version would come to the same, at a cost per row.
TOUCHING = "detainees.touching"
IS_TOUCHING = f"current_setting('{TOUCHING}', true) = 'on'"


def touch_sql(name: str, operation: str) -> str:
    """The body of `name`'s statement trigger for `operation`: one UPDATE per row table."""
    by_row: dict[str, list[str]] = {}
    for entry in TOUCHES.get(name, ()):
        by_row.setdefault(entry.row, []).append(_reached(name, entry, operation))
    steps = [f"IF {IS_TOUCHING} THEN RETURN NULL; END IF;"]
    if operation == "UPDATE":
        # A save changing nothing shown ends here. Counted, not EXISTS: PostgreSQL would plan
        # the first match as a nested loop over both transition tables.
        steps.append(
            f"SELECT count(*) INTO changed FROM {NEW} r JOIN {OLD} o "  # noqa: S608 (built from SHOWN_IN)
            f"ON o.{key(name)} = r.{key(name)} WHERE {_differ((), 'r', 'o')};"
            "\nIF changed = 0 THEN RETURN NULL; END IF;"
        )
    steps.append(f"PERFORM set_config('{TOUCHING}', 'on', true);")
    for row, reached in by_row.items():
        union = " UNION ".join(reached)
        # A row changed earlier in the transaction already has a time as late as this one.
        steps.append(
            f"UPDATE {table(row)} SET updated = clock_timestamp() "  # noqa: S608 (built from SHOWN_IN)
            f"WHERE id IN ({union}) AND updated < now();"
        )
    steps.append(f"PERFORM set_config('{TOUCHING}', 'off', true);")
    return "\n".join((*steps, "RETURN NULL;"))


def triggers(name: str) -> list[pgtrigger.Trigger]:
    """The triggers of table `name`: a statement trigger per operation its rows are shown by,
    and, on a row table, the row trigger moving its own time."""
    referencing = {
        "INSERT": pgtrigger.Referencing(new=NEW),
        "UPDATE": pgtrigger.Referencing(old=OLD, new=NEW),
        "DELETE": pgtrigger.Referencing(old=OLD),
    }
    operation = {"INSERT": pgtrigger.Insert, "UPDATE": pgtrigger.Update, "DELETE": pgtrigger.Delete}
    found = []
    if name in TOUCHES:
        found += [
            pgtrigger.Trigger(
                name=f"touch_shown_on_{op.lower()}",
                level=pgtrigger.Statement,
                when=pgtrigger.After,
                operation=operation[op],
                referencing=referencing[op],
                declare=[("changed", "bigint")] if op == "UPDATE" else None,
                func=touch_sql(name, op),
            )
            for op in operations(name)
        ]
    if name in ROWS:
        hidden = "'{" + ",".join(NOT_SHOWN) + "}'::text[]"
        found.append(
            pgtrigger.Trigger(
                name="touch_own_changes",
                level=pgtrigger.Row,
                when=pgtrigger.Before,
                operation=pgtrigger.Update,
                condition=pgtrigger.Condition("OLD.updated IS NOT DISTINCT FROM NEW.updated"),
                # Compared here, not in the condition: a condition may not read the whole row
                # of a table with generated columns (sources' search vector).
                func=f"IF to_jsonb(OLD) - {hidden} IS DISTINCT FROM to_jsonb(NEW) - {hidden} THEN "
                "NEW.updated := clock_timestamp(); END IF; RETURN NEW;",
            )
        )
    return found


def register(models) -> None:
    """Attach each table's triggers to its model (the migrations install them from there)."""
    by_name = {model._meta.model_name: model for model in models}
    missing = (set(TOUCHES) | set(ROWS)) - set(by_name)
    if missing:
        raise LookupError(f"SHOWN_IN names tables without a model: {sorted(missing)}")
    for name, model in by_name.items():
        found = triggers(name)
        if found:
            pgtrigger.register(*found)(model)
