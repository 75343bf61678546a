"""What the public pages of organizations, facilities, sources, batches and places show.

Only public records (each model's `public()`) and public fields are read here. The person page
is `detainees.read.person`; every list of events is `detainees.read.filters.events_for_listing`,
less what a record page's table of events does not show (`events_for_tables`).
"""

from datetime import date

from django.db.models import DateField, F, Prefetch, Q, Value
from django.db.models.functions import Coalesce

from detainees.domain.models import (
    Affiliation,
    BatchMembership,
    Citation,
    ClaimStatus,
    Event,
    EventOrganization,
    FacilityControl,
    FacilityName,
    Organization,
    Person,
    Place,
    PublicationStatus,
)
from detainees.domain.models.sources import citations_prefetch
from detainees.read.filters import events_for_listing, public_subjects
from detainees.read.pagination import BadCursor, keyset_page
from detainees.read.unnamed import describe_people_in

PUBLISHED = PublicationStatus.PUBLISHED


# --- Organizations, facilities, sources, batches, places ----------------------------------------


def events_for_tables():
    """`events_for_listing()` as a record page's table of events reads it
    (`{% event_table_rows %}`: the date, kind, summary, public subjects and place): without the
    organizations and citations that only the events page shows, two queries (and a model
    instance per citation and source) fewer a table, and without the columns and joined
    records (the place's parents, the facility) that the table does not show."""
    return (
        events_for_listing()
        .select_related(None)
        .select_related("place")
        .only(*TABLE_COLUMNS)
        .prefetch_related(None)
        .prefetch_related(public_subjects())
    )


# What `{% event_table_rows %}` reads of an event, and what its list is ordered by.
TABLE_COLUMNS = (
    "kind",
    "summary",
    "date",
    "date_as_written",
    "date_earliest",
    "end_date",
    "end_date_as_written",
    "claim_status",
    "unnamed_count",
    "order_hint",
    "place__name",
    "place__slug",
    "place__status",
)


# Every list on a record's page is paged (a force's page once listed 572 captures in one page):
# `SECTION_PAGE_SIZE` rows a page, each list with its own cursor parameter `<name>_after`.
SECTION_PAGE_SIZE = 50


def section(queryset, cursors, name: str, field: str, *, descending: bool = False):
    """One page of a list on a record's page, from the cursor `cursors[name]` (the request's
    `<name>_after`). Raises BadCursor for a cursor that is not one."""
    try:
        page = keyset_page(
            queryset,
            field=field,
            descending=descending,
            after=(cursors or {}).get(name),
            size=SECTION_PAGE_SIZE,
        )
    except BadCursor as exc:
        exc.param = f"{name}_after"
        raise
    describe_people_in(page.rows)
    return page


def organization_page(organization, cursors=None) -> dict:
    roles = EventOrganization.objects.filter(organization=organization)
    members = (
        Affiliation.objects.public()
        .filter(organization=organization)
        .select_related("person")
        .prefetch_related("person__names")
    )
    captures = events_for_tables().filter(
        kind=Event.Kind.CAPTURE,
        pk__in=roles.filter(
            role__in=[
                EventOrganization.Role.CAPTURING_FORCE,
                EventOrganization.Role.PARTNER_FORCE,
            ]
        ).values("event_id"),
    )
    releases = events_for_tables().filter(
        kind=Event.Kind.RELEASE,
        pk__in=roles.filter(role=EventOrganization.Role.ORDERED_BY).values("event_id"),
    )
    children = Organization.objects.public().filter(parent=organization)
    return {
        "organization": organization,
        "parent": organization.parent
        if organization.parent_id and organization.parent.is_public
        else None,
        "children": section(children, cursors, "children", "name"),
        "members": section(members, cursors, "members", "start_earliest"),
        "captures": section(captures, cursors, "captures", "date_earliest"),
        "releases": section(releases, cursors, "releases", "date_earliest"),
    }


def held_at(facility, day_from, day_to):
    """Custody episodes at `facility` that may cover any day in [day_from, day_to]."""
    return (
        events_for_tables()
        .filter(kind=Event.Kind.CUSTODY, facility=facility)
        # Started by `day_to` or undated, written as the pages' sort key (`keyset_page`) so that
        # the index on (facility, kind, that key) bounds the scan: the episodes that started
        # later (thousands at a busy facility) are not read one by one only to be left out.
        .alias(started=Coalesce(F("date_earliest"), Value(date.min), output_field=DateField()))
        .filter(started__lte=day_to)
        .filter(
            Q(end_date_latest__gte=day_from)
            | Q(end_date="", custody_end_reason="")  # still held
            | Q(end_date="", date_latest__lte=day_to)  # ended, end unknown
        )
    )


FACILITY_PAGE_SIZE = 50


def public_controls():
    """Control periods shown to the public: by public organizations, not retracted, in date
    order (a controller before the operator of the same period)."""
    return (
        FacilityControl.objects.filter(Organization.public_q("controller__"))
        .exclude(claim_status=ClaimStatus.RETRACTED)
        .select_related("controller")
        .order_by(F("start_earliest").asc(nulls_first=True), "role", "pk")
    )


def with_facility_parts(facilities):
    """`facilities` with their other names (`names`) and public control periods with their
    citations (`public_controls`): four queries whatever their number."""
    return facilities.prefetch_related(
        "names",
        Prefetch(
            "controls",
            queryset=public_controls().prefetch_related(citations_prefetch()),
            to_attr="public_controls",
        ),
    )


def facility_page(facility, on=None, *, after=None, held_after=None) -> dict:
    """The facility's other names, its control history (controllers, operators and owners, each
    period with its role), and its custody episodes, latest first, a page at a time: all of
    them from the cursor `after`, and those possibly covering `on` from `held_after`. Raises
    BadCursor for a cursor that is not one."""
    controls = public_controls().filter(facility=facility)
    custody = events_for_tables().filter(kind=Event.Kind.CUSTODY, facility=facility)
    context = {
        "facility": facility,
        "names": FacilityName.objects.filter(facility=facility).order_by("name"),
        "controls": controls,
        "custody": latest_first(custody, after),
        "on": on,
    }
    if on is not None:
        context["held_on"] = latest_first(
            held_at(facility, on.earliest, on.latest), held_after, "held_after"
        )
        # Whose custody the people held then were in: controllers, not operators or owners.
        context["controllers_on"] = [
            c
            for c in controls
            if c.role == FacilityControl.Role.CONTROLLER
            and (c.start_earliest is None or c.start_earliest <= on.latest)
            and (c.end_latest is None or c.end_latest >= on.earliest)
        ]
    return context


def latest_first(events, after, param: str = "after"):
    try:
        page = keyset_page(
            events, field="date_earliest", descending=True, after=after, size=FACILITY_PAGE_SIZE
        )
    except BadCursor as exc:
        exc.param = param
        raise
    describe_people_in(page.rows)
    return page


def source_page(source) -> dict:
    citations = (
        Citation.objects.filter(source=source)
        .select_related(
            "person",
            "person_name__person",
            "nationality__person",
            "affiliation__person",
            "affiliation__organization",
            "event",
            "facility_control__facility",
            "facility_control__controller",
            "batch",
            "batch_membership__person",
            "batch_membership__batch",
            "relationship__person",
            "relationship__other",
        )
        # A relationship is shown by both people's names.
        .prefetch_related("relationship__person__names", "relationship__other__names")
        .order_by("pk")
    )
    facts = []
    for citation in citations:
        fact = citation.fact
        if not is_public_fact(fact):
            continue
        facts.append(citation)
    return {"source": source, "citations": facts}


def is_public_fact(fact) -> bool:
    """A fact may be shown when it and every record it hangs on are public (a retracted event
    is not)."""
    if not getattr(fact, "is_public", True):
        return False
    for parent in ("person", "facility", "batch", "organization", "controller"):
        obj = getattr(fact, parent, None)
        if obj is not None and not getattr(obj, "is_public", True):
            return False
    return True


def public_memberships():
    """The people a batch names that the public sees: public people, claims not retracted."""
    return (
        BatchMembership.objects.filter(Person.public_q("person__"))
        .exclude(claim_status=ClaimStatus.RETRACTED)
        .select_related("person")
        .prefetch_related("person__names")
    )


def with_batch_parts(batches):
    """`batches` with their public memberships, each with its citations (`public_memberships`,
    in the order entered), and their own citations: six queries whatever their number."""
    return batches.prefetch_related(
        Prefetch(
            "memberships",
            queryset=public_memberships().prefetch_related(citations_prefetch()).order_by("pk"),
            to_attr="public_memberships",
        ),
        citations_prefetch(),
    )


def batch_page(batch, cursors=None) -> dict:
    memberships = public_memberships().filter(batch=batch)
    return {
        "batch": batch,
        "memberships": section(memberships, cursors, "members", "inclusion"),
        "releases": section(
            events_for_tables().filter(batch=batch), cursors, "releases", "date_earliest"
        ),
    }


def place_page(place, cursors=None) -> dict:
    # The place and the places in it, two levels down (country > province > district), as a
    # subquery of ids: PostgreSQL then reads the events by their place (an index) rather than
    # joining every event to its place and parents to test them (2.3 s at 1,000,000 events).
    within = Place.objects.filter(Q(pk=place.pk) | Q(parent=place) | Q(parent__parent=place))
    inside = Q(place__in=within.values("pk"))
    return {
        "place": place,
        "ancestors": [
            p
            for p in (place.parent, place.parent.parent if place.parent else None)
            if p and p.is_public
        ],
        "children": section(
            Place.objects.public().filter(parent=place), cursors, "children", "name"
        ),
        "facilities": section(place.facilities.public(), cursors, "facilities", "name"),
        "events": section(events_for_tables().filter(inside), cursors, "events", "date_earliest"),
    }
