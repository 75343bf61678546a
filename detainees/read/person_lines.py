"""People in their API detail shape (`detainees.api.serializers.PersonDetailSerializer`), a
whole chunk at a time, built from tuples.

The JSON Lines export writes every published person in the detail shape. Through the serializer
each chunk was read with `detainees.read.person.person_queryset()`: some twenty prefetches whose
cost is Django's (a model instance per row, a queryset clone per prefetched relation of each
instance), not the database's. Here a chunk of people is read as plain tuples with one query per
relation for the whole chunk (names, nationalities, affiliations, timeline events and their
rows, custodians, batches, relationships, citations with their sources, corrections), and each
person is written directly. The derived parts (the status line, the custodians of a custody
episode, the deciding event) run the very functions the record runs
(`detainees.read.timeline`), over light stand-ins holding what those functions read.

The API's person detail, read by anyone as JSON, is a chunk of one (`person_detail`).

The keys, values and order are the serializer's: tests/test_person_lines.py compares every
published person of the demo case and of a generated dataset with the serializer's output.
"""

from collections import defaultdict

from django.contrib.contenttypes.models import ContentType
from django.db.models import F, Q

from detainees.domain.models import (
    Affiliation,
    BatchMembership,
    Citation,
    ClaimStatus,
    Correction,
    Event,
    EventOrganization,
    EventPerson,
    FacilityControl,
    Nationality,
    Organization,
    Person,
    PersonName,
    PublicationStatus,
    Relationship,
    ReleaseBatch,
)
from detainees.domain.models.people import relationship_label
from detainees.read import timeline
from detainees.read.chunks import among
from detainees.read.event_lines import (
    LABELS,
    as_text,
    cited_sources,
    event_columns,
    event_dicts,
    organization_name,
    place_label,
    selected,
    unnamed,
    utc,
)
from detainees.read.listing import CurrentStatus, current_status
from detainees.read.person import KIND_ORDER, age_at_event
from detainees.read.rows import iso_datetimes

PUBLISHED = PublicationStatus.PUBLISHED
CHUNK_SIZE = 500


def names_of(person_ids) -> dict[int, str]:
    """`detainees.read.event_lines.display_names`, queried even for no people: a chunk costs
    the same queries whatever it holds."""
    return dict(
        PersonName.objects.filter(among("person_id", person_ids))
        .order_by("person_id", "-is_primary", "name", "pk")
        .distinct("person_id")
        .values_list("person_id", "name")
    )


class Org:
    """An organization as the timeline functions read it."""

    __slots__ = ("public_id", "name", "abbreviation")

    def __init__(self, public_id, name, abbreviation):
        self.public_id, self.name, self.abbreviation = public_id, name, abbreviation

    def __str__(self):
        return organization_name(self.name, self.abbreviation)


class Linked:
    """A row of a list the timeline functions filter by role (`organizations_in`)."""

    __slots__ = ("role", "organization", "person", "capacity")

    def __init__(self, role, organization=None, person=None, capacity=""):
        self.role, self.organization, self.person, self.capacity = (
            role,
            organization,
            person,
            capacity,
        )


class Control:
    __slots__ = (
        "role",
        "claim_status",
        "start",
        "start_earliest",
        "end",
        "end_latest",
        "controller",
    )

    def __init__(self, *values):
        for name, value in zip(self.__slots__, values, strict=True):
            setattr(self, name, value)


class Listed(list):
    """A list that answers `.all()`, as a prefetched relation does."""

    def all(self):
        return self


class FacilityStub:
    __slots__ = ("public_id", "name", "status", "controls")

    def __init__(self, public_id, name, status):
        self.public_id, self.name, self.status = public_id, name, status
        self.controls = Listed()

    @property
    def is_public(self):
        return self.status == PUBLISHED


EVENT_FIELDS = (
    "pk",
    "public_id",
    "kind",
    "claim_status",
    "date",
    "date_earliest",
    "date_latest",
    "end_date",
    "end_date_latest",
    "custody_end_reason",
    "order_hint",
    "facility_id",
    "reengagement",
)
REENGAGEMENT = dict(Event._meta.get_field("reengagement").flatchoices)


class EventStub:
    """An event as `detainees.read.timeline` reads it."""

    __slots__ = (*EVENT_FIELDS, "facility", "organizations", "people")

    def __init__(self, values, facility):
        for name, value in zip(EVENT_FIELDS, values, strict=True):
            setattr(self, name, value)
        self.facility = facility
        self.organizations = []
        self.people = []

    def organizations_in(self, role):
        return [o.organization for o in self.organizations if o.role == role]

    def people_in(self, role):
        return [p for p in self.people if p.role == role]

    def get_reengagement_display(self):
        return str(REENGAGEMENT.get(self.reengagement, self.reengagement))


class Role:
    __slots__ = ("event", "age")

    def __init__(self, event, age):
        self.event, self.age = event, age


class PersonStub:
    __slots__ = ("pk", "subject_roles", "current_status")

    def __init__(self, pk, roles, status):
        self.pk, self.subject_roles, self.current_status = pk, roles, status


def fuzzy(row, i) -> dict:
    """A fuzzy date from its four columns at `row[i:i+4]` (edtf, earliest, latest, as written)."""
    edtf, earliest, latest, as_written = row[i : i + 4]
    return {
        "edtf": edtf,
        "earliest": earliest.isoformat() if earliest else None,
        "latest": latest.isoformat() if latest else None,
        "text": HUMANIZED[edtf],
        "as_written": as_written,
    }


def dated(prefix: str) -> list[str]:
    return [prefix, f"{prefix}_earliest", f"{prefix}_latest", f"{prefix}_as_written"]


def voice(source: dict) -> tuple:
    """A cited source (`cited_source`'s dict) as the source count reads it: its id, and its
    publisher's when that is public (`detainees.read.person.SourceCount`)."""
    publisher = source["publisher"]
    return source["id"], publisher and publisher["id"]


class Citations:
    """The public citations of each fact of a chunk: (fact key, fact pk) -> citation rows, with
    each citation's `voice` for the source count. An event's come with its row
    (`detainees.read.event_lines`)."""

    def __init__(self, by_fact: dict[str, list]):
        # One query for every kind of fact: a citation of any of them, in the order entered.
        columns = list(by_fact)
        wanted = [set(by_fact[column]) for column in columns]
        matches = Q()
        for column in columns:
            matches |= Q(among(column, by_fact[column]))
        rows = []
        for row in (
            Citation.objects.filter(matches)
            .order_by("pk")
            .values_list(
                *columns,
                "source_id",
                "aspect",
                "quote",
                "locator",
                "attribution",
                as_text("accessed_on"),
            )
        ):
            facts, rest = row[: len(columns)], row[len(columns) :]
            for column, ids, fact in zip(columns, wanted, facts, strict=True):
                if fact is not None and fact in ids:
                    rows.append((column, fact, *rest))
        sources = cited_sources({row[2] for row in rows})
        self.rows = defaultdict(list)
        self.voices = defaultdict(list)
        for column, fact, source_id, *rest in rows:
            source = sources.get(source_id)
            if source is None:
                continue
            aspect, quote, locator, attribution, accessed_on = rest
            self.rows[column, fact].append(
                {
                    "source": source,
                    "aspect": aspect,
                    "quote": quote,
                    "locator": locator,
                    "attribution": attribution,
                    "accessed_on": accessed_on,
                }
            )
            self.voices[column, fact].append(voice(source))

    def of(self, column, pk) -> list[dict]:
        return self.rows.get((column, pk), [])


class Humanized(dict):
    def __missing__(self, edtf):
        text = self[edtf] = timeline.humanize(edtf)
        return text


HUMANIZED = Humanized()

PERSON_COLUMNS = [
    "pk",
    as_text("public_id"),
    "slug",
    "gender",
    *dated("birth"),
    "birthplace__status",
    as_text("birthplace__public_id"),
    "birthplace__name",
    "birthplace__kind",
    "withheld",
    "biography",
    "fate",
    "fate_claim_status",
    "created",
    "updated",
    "current_status",
]


def person_chunks(people=None, chunk_size: int = CHUNK_SIZE):
    """Lists of person details (dicts as PersonDetailSerializer gives them) of the published
    people of `people` (default: all), by primary key, `chunk_size` per list."""
    people = Person.objects.public() if people is None else people
    values = (
        people.annotate(current_status=current_status()).order_by("pk").values_list(*PERSON_COLUMNS)
    )
    last = 0
    while True:
        chunk = list(values.filter(pk__gt=last)[:chunk_size])
        if not chunk:
            return
        last = chunk[-1][0]
        yield person_dicts(chunk)


def person_detail(public_id) -> dict | None:
    """The API detail of the published person `public_id` (a UUID), or None if there is none:
    the endpoint's answer for a public read, a chunk of one person."""
    chunk = list(
        Person.objects.public()
        .filter(public_id=public_id)
        .annotate(current_status=current_status())
        .values_list(*PERSON_COLUMNS)[:1]
    )
    return person_dicts(chunk)[0] if chunk else None


def person_dicts(chunk: list[tuple]) -> list[dict]:
    """The details of the people of `chunk` (tuples of PERSON_COLUMNS)."""
    if LABELS["place"] is None:
        LABELS["place"] = place_label()
    label_place = LABELS["place"]
    datetime = iso_datetimes()
    ids = [row[0] for row in chunk]
    names = defaultdict(list)
    for row in (
        PersonName.objects.filter(among("person_id", ids))
        .order_by("person_id", "-is_primary", "name", "pk")
        .values_list(
            "person_id",
            "pk",
            "name",
            "given",
            "family",
            "kind",
            "is_primary",
            "language",
            "claim_status",
        )
    ):
        names[row[0]].append(row[1:])
    nationalities = defaultdict(list)
    for person_id, pk, country, claim_status in (
        Nationality.objects.filter(among("person_id", ids))
        .exclude(claim_status=ClaimStatus.RETRACTED)
        .order_by("person_id", "country", "pk")
        .values_list("person_id", "pk", "country", "claim_status")
    ):
        nationalities[person_id].append((pk, country, claim_status))
    affiliations = defaultdict(list)
    for row in (
        Affiliation.objects.published()
        .filter(among("person_id", ids), Organization.public_q("organization__"))
        .order_by("person_id", "start_earliest", "pk")
        .values_list(
            "person_id",
            "pk",
            as_text("public_id"),
            as_text("organization__public_id"),
            "organization__name",
            "organization__abbreviation",
            "role",
            *dated("start"),
            *dated("end"),
            "place__status",
            as_text("place__public_id"),
            "place__name",
            "place__kind",
            "strength_estimate",
            "strength_note",
            "claim_status",
        )
    ):
        affiliations[row[0]].append(row[1:])
    memberships = defaultdict(list)
    for row in (
        BatchMembership.objects.filter(among("person_id", ids), ReleaseBatch.public_q("batch__"))
        .order_by("person_id", "pk")
        .values_list(
            "person_id",
            "pk",
            as_text("batch__public_id"),
            "batch__title",
            "inclusion",
            "claim_status",
        )
    ):
        memberships[row[0]].append(row[1:])
    ties = defaultdict(list)
    tie_rows = list(
        Relationship.objects.filter(
            Q(among("person_id", ids)) | Q(among("other_id", ids)), Relationship.public_q()
        )
        .exclude(claim_status=ClaimStatus.RETRACTED)
        .order_by("pk")
        .values_list(
            "pk",
            as_text("public_id"),
            "person_id",
            "other_id",
            "kind",
            *dated("start"),
            *dated("end"),
            "claim_status",
            "note",
        )
    )
    others = {row[2] for row in tie_rows} | {row[3] for row in tie_rows}
    person_ids = set(ids)
    for row in tie_rows:
        # From the person's side, then from the other's (the record lists both).
        if row[2] in person_ids:
            ties[row[2]].append((row, row[3], False))
    for row in tie_rows:
        if row[3] in person_ids:
            ties[row[3]].append((row, row[2], True))
    corrections = defaultdict(list)
    for person_id, day, note in (
        Correction.objects.filter(
            among("object_id", ids), content_type=ContentType.objects.get_for_model(Person)
        )
        .order_by("object_id", "date", "pk")
        .values_list("object_id", "date", "note")
    ):
        corrections[person_id].append({"date": day.isoformat(), "note": note})

    # The timeline: each person's published events as subject, retracted ones included.
    roles = defaultdict(list)
    role_rows = list(
        EventPerson.objects.filter(
            among("person_id", ids),
            role=EventPerson.Role.SUBJECT,
            event__status=PUBLISHED,
        )
        .order_by("pk")
        .values_list("person_id", "event_id", "age")
    )
    event_ids = sorted({row[1] for row in role_rows})
    columns, in_utc = event_columns(), utc()
    events = {}
    facilities = {}
    # One query per relation whatever the chunk holds, empty or not: the count is constant.
    # Each event's row, and after its columns those the timeline functions read (as stored).
    stub_columns = [
        *(F(name) for name in EVENT_FIELDS),
        F("facility__status"),
        as_text("facility__public_id"),
        F("facility__name"),
    ]
    tuples = list(
        Event.objects.filter(among("pk", event_ids))
        .order_by("pk")
        .values_list(*selected(columns, in_utc=in_utc), *stub_columns)
    )
    rows = dict(
        zip([t[0] for t in tuples], event_dicts(tuples, columns, in_utc=in_utc), strict=True)
    )
    for values in (t[len(columns) :] for t in tuples):
        facility_id = values[11]
        facility = None
        if facility_id is not None:
            facility = facilities.setdefault(
                facility_id, FacilityStub(values[-2], values[-1], values[-3])
            )
        events[values[0]] = EventStub(values[: len(EVENT_FIELDS)], facility)
    for event_id, role, org_public_id, name, abbreviation in (
        EventOrganization.objects.filter(
            among("event_id", event_ids), Organization.public_q("organization__")
        )
        .order_by("pk")
        .values_list(
            "event_id",
            "role",
            as_text("organization__public_id"),
            "organization__name",
            "organization__abbreviation",
        )
    ):
        events[event_id].organizations.append(
            Linked(role, organization=Org(org_public_id, name, abbreviation))
        )
    ordering = list(
        EventPerson.objects.filter(
            among("event_id", event_ids),
            Person.public_q("person__"),
            role=EventPerson.Role.ORDERED_BY,
        )
        .order_by("pk")
        .values_list("event_id", "person_id", "capacity", as_text("person__public_id"))
    )
    # The people tied to the chunk's and those who ordered its events: read together.
    others |= {row[1] for row in ordering}
    other_people = {
        pk: (public_id, slug, withheld, gender)
        for pk, public_id, slug, withheld, gender in Person.objects.filter(
            among("pk", others)
        ).values_list("pk", as_text("public_id"), "slug", "withheld", "gender")
    }
    other_names = names_of(list(others))
    if True:
        for event_id, person_id, capacity, public_id in ordering:
            name = other_names.get(person_id)
            if name is None:
                name = unnamed(public_id, other_people[person_id][2])
            events[event_id].people.append(
                Linked(EventPerson.Role.ORDERED_BY, person=name, capacity=capacity)
            )
    if True:
        for row in (
            FacilityControl.objects.controllers()
            .filter(among("facility_id", list(facilities)), Organization.public_q("controller__"))
            .order_by("facility_id", "start_earliest", "pk")
            .values_list(
                "facility_id",
                "role",
                "claim_status",
                "start",
                "start_earliest",
                "end",
                "end_latest",
                as_text("controller__public_id"),
                "controller__name",
                "controller__abbreviation",
            )
        ):
            facilities[row[0]].controls.append(Control(*row[1:7], Org(*row[7:])))
    for person_id, event_id, age in role_rows:
        roles[person_id].append(Role(events[event_id], age))

    citations = Citations(
        {
            "person_id": ids,
            "person_name_id": [n[0] for rows_ in names.values() for n in rows_],
            "nationality_id": [n[0] for rows_ in nationalities.values() for n in rows_],
            "affiliation_id": [a[0] for rows_ in affiliations.values() for a in rows_],
            "batch_membership_id": [m[0] for rows_ in memberships.values() for m in rows_],
            "relationship_id": [row[0] for row in tie_rows],
        }
    )

    out = []
    for row in chunk:
        out.append(
            person_dict(
                row,
                names=names.get(row[0], []),
                nationalities=nationalities.get(row[0], []),
                affiliations=affiliations.get(row[0], []),
                memberships=memberships.get(row[0], []),
                ties=ties.get(row[0], []),
                other_people=other_people,
                other_names=other_names,
                corrections=corrections.get(row[0], []),
                roles=roles.get(row[0], []),
                rows=rows,
                citations=citations,
                label_place=label_place,
                datetime=datetime,
            )
        )
    return out


def person_dict(
    row,
    *,
    names,
    nationalities,
    affiliations,
    memberships,
    ties,
    other_people,
    other_names,
    corrections,
    roles,
    rows,
    citations,
    label_place,
    datetime,
) -> dict:
    (
        pk,
        public_id,
        slug,
        gender,
        *_birth,
        place_status,
        place_id,
        place_name,
        place_kind,
        withheld,
        biography,
        fate,
        fate_claim_status,
        created,
        updated,
        status,
    ) = row
    voices = []  # `voice` of every public citation of every fact the record shows

    def cited(column, fact_pk):
        voices.extend(citations.voices.get((column, fact_pk), ()))
        return citations.of(column, fact_pk)

    nationality_rows = [
        {"country": country, "claim_status": claim, "citations": cited("nationality_id", n)}
        for n, country, claim in nationalities
    ]
    affiliation_rows = []
    for a in affiliations:
        (a_pk, a_id, org_id, org_name, org_abbr, role, *rest) = a
        affiliation_rows.append(
            {
                "id": a_id,
                "organization": {"id": org_id, "name": organization_name(org_name, org_abbr)},
                "role": role,
                "start": fuzzy(rest, 0),
                "end": fuzzy(rest, 4),
                "place": {"id": rest[9], "name": label_place(rest[10], rest[11])}
                if rest[9] is not None and rest[8] == PUBLISHED
                else None,
                "strength_estimate": rest[12],
                "strength_note": rest[13],
                "claim_status": rest[14],
                "citations": cited("affiliation_id", a_pk),
            }
        )
    person = PersonStub(pk, sorted(roles, key=lambda role: timeline.sort_key(role.event)), status)
    birth_earliest, birth_latest = _birth[1], _birth[2]
    timeline_rows = []
    entries = []  # (event, custodians)
    for role in person.subject_roles:
        event = role.event
        out = dict(rows[event.pk])
        age = age_at_event(
            stated=role.age,
            birth_earliest=birth_earliest,
            birth_latest=birth_latest,
            event_earliest=event.date_earliest,
            event_latest=event.date_latest,
        )
        out["age_at_event"] = age and {"from": age.low, "to": age.high, "stated": age.stated}
        custodians = []
        if event.kind == Event.Kind.CUSTODY:
            custodians = timeline.custodians(event)
            out["custodians"] = [custodian(span) for span in custodians]
        voices.extend(voice(citation["source"]) for citation in out["citations"])
        timeline_rows.append(out)
        entries.append((event, custodians))
    batch_rows = [
        {
            "batch": {"id": batch_id, "name": title},
            "inclusion": inclusion,
            "claim_status": claim,
            "citations": cited("batch_membership_id", m_pk),
        }
        for m_pk, batch_id, title, inclusion, claim in memberships
    ]
    tie_rows = []
    for tie, other, inverse in ties:
        other_id, other_slug, other_withheld, _ = other_people[other]
        name = other_names.get(other)
        if name is None:
            name = unnamed(other_id, other_withheld)
        tie_rows.append(
            (
                (KIND_ORDER[tie[4]], name, tie[0]),
                tie,
                relationship_label(tie[4], inverse=inverse, gender=gender),
                other_id,
                other_slug,
                name,
            )
        )
    tie_rows.sort(key=lambda t: t[0])
    relationships = []
    for _, tie, label, other_id, other_slug, name in tie_rows:
        relationships.append(
            {
                "id": tie[1],
                "kind": tie[4],
                "label": label,
                "person": {
                    "id": other_id,
                    "name": name,
                    "url": Person(slug=other_slug).get_absolute_url(),
                },
                "start": fuzzy(tie, 5),
                "end": fuzzy(tie, 9),
                "claim_status": tie[13],
                "note": tie[14],
                "citations": cited("relationship_id", tie[0]),
            }
        )
    name_rows = [
        {
            "name": name,
            "given": given,
            "family": family,
            "kind": kind,
            "is_primary": is_primary,
            "language": language,
            "claim_status": claim,
            "citations": cited("person_name_id", n_pk),
        }
        for n_pk, name, given, family, kind, is_primary, language, claim in names
    ]
    person_citations = cited("person_id", pk)
    display = names[0][1] if names else unnamed(public_id, withheld)
    return {
        "id": public_id,
        "slug": slug,
        "name": display,
        "names": name_rows,
        "gender": gender,
        "birth": fuzzy(_birth, 0),
        "birthplace": {"id": place_id, "name": label_place(place_name, place_kind)}
        if place_id is not None and place_status == PUBLISHED
        else None,
        "withheld": [w for w in Person.Withheld.values if w in withheld],
        "biography": biography,
        "fate": fate,
        "fate_claim_status": fate_claim_status,
        "nationalities": nationality_rows,
        "current_status": status,
        "status_line": timeline.status_line(person),
        "summary": summary(person, status, entries, voices),
        "affiliations": affiliation_rows,
        "timeline": timeline_rows,
        "batches": batch_rows,
        "relationships": relationships,
        "citations": person_citations,
        "corrections": corrections,
        "created": datetime(created),
        "updated": datetime(updated),
    }


def custodian(span) -> dict:
    return {
        "id": str(span.organization.public_id),
        "name": span.organization.name,
        "start": span.start,
        "end": span.end,
        "via_facility": span.via_facility,
    }


def summary(person, status, entries, voices) -> dict:
    """PersonDetailSerializer.get_summary, from the entries (event, custodians) in order."""
    decided = timeline.deciding_event(person)
    deciding = decided and decided.event
    custody = [
        (event, spans)
        for event, spans in entries
        if event.kind == Event.Kind.CUSTODY and event.claim_status != ClaimStatus.RETRACTED
    ]
    last = custody[-1] if custody else None
    sources = {}
    for source_id, publisher in voices:
        sources[source_id] = publisher
    independent = {("publisher", p) if p is not None else ("source", s) for s, p in sources.items()}
    since = ""
    if deciding:
        ended = deciding.kind == Event.Kind.CUSTODY and deciding.custody_end_reason
        since = deciding.end_date if ended else deciding.date
    custody_out = None
    if last:
        event, spans = last
        span = spans[-1] if spans else None
        facility = event.facility
        custody_out = {
            "current": status == CurrentStatus.IN_CUSTODY and not event.custody_end_reason,
            "event": str(event.public_id),
            "claim_status": event.claim_status,
            "custodian": span and custodian(span),
            "facility": {"id": str(facility.public_id), "name": facility.name}
            if facility is not None and facility.is_public
            else None,
        }
    return {
        "status": status,
        "event": str(deciding.public_id) if deciding else None,
        "since": since,
        "claim_status": deciding.claim_status if deciding else "",
        "custody": custody_out,
        "sources": len(sources),
        "independent_sources": len(independent),
    }
