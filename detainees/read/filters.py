"""The people list's facets, defined once for the public pages, CSV and (later) the API.

Each facet is a set of (person, value, label) pairs built from published records. The pairs are
stored per person and per event, as "facet=value" (detainees.read.listing_store), and that one
stored array both filters the list (a record matches when it has a selected value) and counts
it (records in the current selection per value), so a facet's counts always match its results.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date

import django_filters
from django import forms
from django.db import connection, models
from django.db.models import Exists, F, OuterRef, Q, Value
from django.db.models.functions import Cast, ExtractYear
from django_countries import countries
from django_filters.fields import IsoDateTimeField, MultipleChoiceField

from detainees.domain.fuzzydates import FuzzyDate, FuzzyDateError
from detainees.domain.models import (
    Affiliation,
    Citation,
    ClaimStatus,
    Event,
    EventFacetTotal,
    EventOrganization,
    EventPerson,
    FacetTotal,
    Facility,
    Nationality,
    Organization,
    Person,
    Place,
    PublicationStatus,
    Source,
)
from detainees.read.bounds import MAX_CHOICE_LENGTH, MAX_DATE_LENGTH, MAX_SEARCH_LENGTH, too_long
from detainees.read.listing import CurrentStatus, annotate_listing, own_events
from detainees.read.listing_store import COLUMNS as LISTING_COLUMNS

PUBLISHED = PublicationStatus.PUBLISHED


def subject_roles(*kinds):
    """Public events of public people, as their subject: (person, event) rows."""
    roles = EventPerson.objects.public().filter(role=EventPerson.Role.SUBJECT)
    return roles.filter(event__kind__in=kinds) if kinds else roles


def subjects_of_event_orgs(kind, role):
    """(person, organization) rows: each public subject of a public event of `kind` with each
    public organization in exactly `role` in it. Built from the organization's own link, with
    the event's subjects joined in one filter() call, so the role and the organization come
    from the same row (two filter() calls on a multi-valued path join it twice)."""
    links = EventOrganization.objects.public().filter(
        Q(role=role, event__kind=kind, event__people__role=EventPerson.Role.SUBJECT)
        & Person.public_q("event__people__person__")
    )
    return links.values(
        person_key=F("event__people__person_id"),
        value=F("organization__slug"),
        label=F("organization__name"),
    )


@dataclass(frozen=True)
class Facet:
    """A facet: a name, a label, its (person, value, label) pairs, and labels for coded values."""

    name: str
    label: str
    build: Callable[[], list]
    choices: dict[str, str] = field(default_factory=dict)
    key: str = "person_key"  # the pairs' column naming the row they belong to
    labels_from: str = ""  # the model whose slugs the values are: its names are the labels

    def pair_querysets(self) -> list:
        return self.build()

    def labels(self) -> dict[str, str]:
        return self.choices


def _nationality():
    return [
        Nationality.objects.filter(Person.public_q("person__"))
        .exclude(claim_status=ClaimStatus.RETRACTED)
        .values(person_key=F("person_id"), value=F("country"), label=F("country"))
    ]


def _organization():
    return [
        Affiliation.objects.public().values(
            person_key=F("person_id"), value=F("organization__slug"), label=F("organization__name")
        )
    ]


def _event_org(kind, role):
    return [subjects_of_event_orgs(kind, role)]


def _custodian():
    named = subjects_of_event_orgs(Event.Kind.CUSTODY, EventOrganization.Role.CUSTODIAN)
    # Held at a public facility this organization controlled at some time (handovers
    # included), by a control that is not retracted: as the timeline names custodians. One
    # filter() call, so every condition reads the same control.
    unretracted = [c for c in ClaimStatus.values if c != ClaimStatus.RETRACTED]
    via_facility = (
        subject_roles(Event.Kind.CUSTODY)
        .filter(
            Q(event__facility__controls__claim_status__in=unretracted)
            & Facility.public_q("event__facility__")
            & Organization.public_q("event__facility__controls__controller__")
        )
        .values(
            person_key=F("person_id"),
            value=F("event__facility__controls__controller__slug"),
            label=F("event__facility__controls__controller__name"),
        )
    )
    return [named, via_facility]


def _facility():
    roles = subject_roles().filter(Facility.public_q("event__facility__"))
    return [
        roles.values(
            person_key=F("person_id"),
            value=F("event__facility__slug"),
            label=F("event__facility__name"),
        )
    ]


def _release_kind():
    return [
        subject_roles(Event.Kind.RELEASE)
        .exclude(event__release_kind="")
        .values(person_key=F("person_id"), value=F("event__release_kind"), label=Value(""))
    ]


def _country():
    return [
        subject_roles()
        .filter(Place.public_q("event__place__"))
        .values(person_key=F("person_id"), value=F("event__place__country"), label=Value(""))
    ]


def _province():
    """Events at a province or anywhere inside it (districts, localities)."""
    querysets = []
    for path in ("event__place", "event__place__parent", "event__place__parent__parent"):
        querysets.append(
            subject_roles()
            .filter(Q(**{f"{path}__kind": "province"}) & Place.public_q(f"{path}__"))
            .values(person_key=F("person_id"), value=F(f"{path}__slug"), label=F(f"{path}__name"))
        )
    return querysets


def _reengaged():
    return [
        subject_roles(Event.Kind.REENGAGEMENT).values(
            person_key=F("person_id"), value=F("event__reengagement"), label=Value("")
        )
    ]


def _claim_status():
    """The claim status of the person's public events: retracted events are not public."""
    return [
        subject_roles().values(
            person_key=F("person_id"), value=F("event__claim_status"), label=Value("")
        )
    ]


def _status():
    people = annotate_listing(Person.objects.public())
    return [people.values(person_key=F("pk"), value=F("current_status"), label=Value(""))]


FACETS: dict[str, Facet] = {
    f.name: f
    for f in [
        Facet("status", "Current status", _status, dict(CurrentStatus.choices)),
        Facet("nationality", "Nationality", _nationality, dict(countries)),
        Facet("organization", "Affiliated organization", _organization, labels_from="organization"),
        Facet(
            "capturing_force",
            "Capturing force",
            lambda: _event_org(Event.Kind.CAPTURE, EventOrganization.Role.CAPTURING_FORCE),
            labels_from="organization",
        ),
        Facet("custodian", "Custodian", _custodian, labels_from="organization"),
        Facet("facility", "Facility", _facility, labels_from="facility"),
        Facet(
            "release_authority",
            "Release ordered by",
            lambda: _event_org(Event.Kind.RELEASE, EventOrganization.Role.ORDERED_BY),
            labels_from="organization",
        ),
        Facet("release_kind", "Release kind", _release_kind, dict(Event.ReleaseKind.choices)),
        Facet("country", "Country of events", _country, dict(countries)),
        Facet("province", "Province of events", _province, labels_from="place"),
        Facet("reengaged", "Re-engaged", _reengaged, dict(Event.Reengagement.choices)),
        Facet("claim_status", "Claim status of events", _claim_status, dict(ClaimStatus.choices)),
    ]
}


# --- Date ranges --------------------------------------------------------------------------------


class Reading(models.TextChoices):
    POSSIBLY = "possibly", "possibly in the range (the dates overlap it)"
    CERTAINLY = "certainly", "certainly in the range (the dates lie inside it)"


def date_range_q(kinds, start: date | None, end: date | None, reading: str) -> Q:
    """People with an event of these kinds possibly or certainly inside [start, end]."""
    events = own_events(kinds)
    if reading == Reading.CERTAINLY:
        if start:
            events = events.filter(event__date_earliest__gte=start)
        if end:
            events = events.filter(event__date_latest__lte=end)
        events = events.filter(event__date_earliest__isnull=False, event__date_latest__isnull=False)
    else:
        if start:
            events = events.filter(
                Q(event__date_latest__gte=start) | Q(event__date_latest__isnull=True)
            )
        if end:
            events = events.filter(
                Q(event__date_earliest__lte=end) | Q(event__date_earliest__isnull=True)
            )
        events = events.exclude(event__date="")
    return Q(Exists(events))


class FuzzyBoundField(forms.CharField):
    """A range end typed as words or EDTF: 'from' takes its earliest day, 'to' its latest."""

    def __init__(self, *, end: bool, **kwargs):
        self.end = end
        super().__init__(**kwargs)

    def widget_attrs(self, widget):
        # Not max_length, whose validator would run on the cleaned day.
        return {**super().widget_attrs(widget), "maxlength": str(MAX_DATE_LENGTH)}

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        if len(value) > MAX_DATE_LENGTH:  # before any parsing
            raise forms.ValidationError(too_long(MAX_DATE_LENGTH, len(value)))
        try:
            fuzzy = FuzzyDate.parse(value)
        except FuzzyDateError as exc:
            # Typed text goes in params, never the message: a '%' in it would break formatting.
            raise forms.ValidationError("%(reason)s", params={"reason": str(exc)}) from exc
        day = fuzzy.latest if self.end else fuzzy.earliest
        if day is None:
            side = "end" if self.end else "start"
            raise forms.ValidationError(
                "'%(value)s' has no %(side)s.", params={"value": value, "side": side}
            )
        return day


class FuzzyBoundFilter(django_filters.Filter):
    def __init__(self, *args, end=False, **kwargs):
        self.end = end
        super().__init__(*args, **kwargs)

    @property
    def field(self):
        if not hasattr(self, "_field"):
            self._field = FuzzyBoundField(
                end=self.end, required=False, label=self.label, help_text=self.extra.get("help")
            )
        return self._field

    def filter(self, qs, value):
        return qs  # applied together with its pair in PersonFilterSet.filter_queryset


class UTCDateTimeField(IsoDateTimeField):
    """An ISO 8601 moment, as UTC: PostgreSQL refuses offsets beyond ±15:59, which ISO allows."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return value.astimezone(UTC)
        except OverflowError as exc:  # e.g. 0001-01-01T00:00+01:00 is before year 1 in UTC
            raise forms.ValidationError("This moment is out of range.") from exc


class UpdatedSinceFilter(django_filters.IsoDateTimeFilter):
    field_class = UTCDateTimeField


SORTS = {
    "name": ("sort_name", False),
    "-name": ("sort_name", True),
    "captured": ("first_capture", False),
    "-captured": ("first_capture", True),
    "released": ("last_release", False),
    "-released": ("last_release", True),
}
SORT_CHOICES = [
    ("name", "Name (A–Z)"),
    ("-name", "Name (Z–A)"),
    ("captured", "Capture date (earliest first)"),
    ("-captured", "Capture date (latest first)"),
    ("released", "Release date (earliest first)"),
    ("-released", "Release date (latest first)"),
]


def narrows(filterset, ignored=frozenset()) -> bool:
    """Whether a valid filterset has a value in any filter but the `ignored` (which order or
    read the selection, and never shrink it); the unfiltered counts are then the stored totals."""
    if not (filterset.is_bound and filterset.is_valid()):
        return False
    return any(v for k, v in filterset.form.cleaned_data.items() if k not in ignored)


MAX_FACET_VALUES = 100  # values of one facet in one request


class FacetValuesField(MultipleChoiceField):
    """A facet's selected values. Unknown values simply match nobody; a NUL, which PostgreSQL
    cannot take, an over-long value and too many values are refused."""

    def valid_value(self, value):
        return "\x00" not in value

    def validate(self, value):
        if len(value) > MAX_FACET_VALUES:
            raise forms.ValidationError(
                f"At most {MAX_FACET_VALUES} values are read here (this has {len(value):,})."
            )
        for item in value:
            if len(item) > MAX_CHOICE_LENGTH:
                raise forms.ValidationError(too_long(MAX_CHOICE_LENGTH, len(item)))
        super().validate(value)


class FacetFilter(django_filters.MultipleChoiceFilter):
    """A facet's checkboxes; the choices are whatever values the data holds. Filters on the
    record's stored values (its `listing`'s facets)."""

    field_class = FacetValuesField

    def __init__(self, facet: Facet, **kwargs):
        self.facet = facet
        super().__init__(label=facet.label, widget=forms.CheckboxSelectMultiple, **kwargs)

    def filter(self, qs, value):
        if not value:
            return qs
        tokens = [f"{self.facet.name}={v}" for v in value]
        return qs.filter(listing__facets__overlap=tokens)


class PersonFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label="Name", method="filter_search", max_length=MAX_SEARCH_LENGTH
    )
    captured_from = FuzzyBoundFilter(label="Captured from", help="e.g. 2011, spring 2011")
    captured_to = FuzzyBoundFilter(label="Captured to", end=True)
    captured_reading = django_filters.ChoiceFilter(
        choices=Reading.choices, label="Capture date is", method="noop", empty_label=None
    )
    released_from = FuzzyBoundFilter(label="Released from", help="e.g. 2013")
    released_to = FuzzyBoundFilter(label="Released to", end=True)
    released_reading = django_filters.ChoiceFilter(
        choices=Reading.choices, label="Release date is", method="noop", empty_label=None
    )
    sort = django_filters.ChoiceFilter(
        choices=SORT_CHOICES, label="Sort by", method="noop", empty_label=None
    )

    class Meta:
        model = Person
        fields = []

    def __init__(self, data=None, *args, **kwargs):
        super().__init__(data, *args, **kwargs)
        for name, facet in FACETS.items():
            self.filters[name] = FacetFilter(facet, field_name=name)
            self.filters[name].parent = self
            self.filters[name].model = Person

    def noop(self, queryset, name, value):
        return queryset

    def filter_search(self, queryset, name, value):
        from detainees.read.search import search_people

        return search_people(value, queryset=queryset)

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        data = self.form.cleaned_data
        for prefix, kinds in (
            ("captured", [Event.Kind.CAPTURE, Event.Kind.CUSTODY]),
            ("released", [Event.Kind.RELEASE]),
        ):
            start, end = data.get(f"{prefix}_from"), data.get(f"{prefix}_to")
            if start or end:
                reading = data.get(f"{prefix}_reading") or Reading.POSSIBLY
                queryset = queryset.filter(date_range_q(kinds, start, end, reading))
        return queryset

    @property
    def narrows(self) -> bool:
        """Whether the selection may be smaller than every published person."""
        return narrows(self, ignored={"sort", "captured_reading", "released_reading"})

    @property
    def sort_key(self) -> str:
        if self.is_bound and self.is_valid():
            return self.form.cleaned_data.get("sort") or "name"
        return "name"


def people_for_listing():
    """Published people with the stored list's columns (see detainees.read.listing_store)."""
    columns = {c: F(f"listing__{c}") for c in LISTING_COLUMNS}
    return (
        Person.objects.public()
        .filter(listing__isnull=False)
        .annotate(**columns)
        .prefetch_related("nationalities")
    )


LABEL_MODELS = {"organization": Organization, "facility": Facility, "place": Place}


def person_facet_counts(selection, *, everyone=False) -> dict[str, list[tuple[str, str, int]]]:
    """`facet_counts` for a selection from `people_for_listing()`, read from the stored list."""
    return stored_facet_counts(selection, FACETS, FacetTotal, "people", everyone=everyone)


def event_facet_counts(selection, *, everyone=False) -> dict[str, list[tuple[str, str, int]]]:
    """`facet_counts` for a selection from `events_for_listing()`, read from the stored list."""
    return stored_facet_counts(
        selection, EVENT_FACETS, EventFacetTotal, "events", everyone=everyone
    )


def stored_facet_counts(selection, facets, totals, count_column, *, everyone=False):
    """Per facet, (value, label, rows) for every value present, most first, from the stored
    list (detainees.read.listing_store): one query counting every facet's values in the selection
    (or reading the stored totals, when the selection is `everyone` listed), and one for the
    names of the records whose slugs the values are."""
    if everyone:
        rows = list(totals.objects.values_list("token", count_column))
    else:
        tokens = selection.order_by().values(tokens=F("listing__facets"))
        sql, params = tokens.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT token, count(*) FROM (SELECT unnest(s.tokens) AS token FROM ({sql}) s) t "  # noqa: S608 (compiled querysets; values are parameters)
                "GROUP BY token",
                params,
            )
            rows = cursor.fetchall()
    found: dict[str, list[tuple[str, int]]] = {name: [] for name in facets}
    for token, n in rows:
        name, _, value = token.partition("=")
        if name in found:
            found[name].append((value, n))
    slugs: dict[str, set[str]] = {}
    for facet in facets.values():
        if facet.labels_from and found[facet.name]:
            slugs.setdefault(facet.labels_from, set()).update(v for v, _ in found[facet.name])
    names = _record_names(slugs)
    counts = {}
    for name, facet in facets.items():
        labels = names.get(facet.labels_from, {}) if facet.labels_from else facet.labels()
        labelled = [(value, labels.get(value) or value, n) for value, n in found[name]]
        counts[name] = sorted(labelled, key=lambda row: (-row[2], row[1], row[0]))
    return counts


def _record_names(slugs: dict[str, set[str]]) -> dict[str, dict[str, str]]:
    """Names of published records by model key and slug, in one query."""
    if not slugs:
        return {}
    parts = [
        LABEL_MODELS[key]
        .objects.public()
        .filter(slug__in=values)
        .values_list(Value(key), "slug", "name")
        for key, values in slugs.items()
    ]
    query = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    names: dict[str, dict[str, str]] = {}
    for key, slug, name in query:
        names.setdefault(key, {})[slug] = name
    return names


def facet_counts(selection, facets=FACETS) -> dict[str, list[tuple[str, str, int]]]:
    """Per facet, (value, label, rows of `selection`) for every value present, most first.

    One query per facet, whatever the size of the selection.
    """
    selection_sql, selection_params = selection.values("pk").query.sql_with_params()
    counts = {}
    with connection.cursor() as cursor:
        for name, facet in facets.items():
            parts, params = [], []
            for pairs in facet.pair_querysets():
                sql, p = pairs.query.sql_with_params()
                parts.append(sql)
                params.extend(p)
            union = " UNION ALL ".join(f"({part})" for part in parts)
            key = facet.key  # a column name from this module, never input
            cursor.execute(
                f"SELECT value, MIN(label), COUNT(DISTINCT {key}) FROM ({union}) AS pairs "  # noqa: S608 (compiled querysets; values are parameters)
                f"WHERE {key} IN ({selection_sql}) AND value IS NOT NULL AND value <> '' "
                "GROUP BY value ORDER BY 3 DESC, 2, 1",
                [*params, *selection_params],
            )
            labels = facet.labels()
            counts[name] = [
                (value, labels.get(value) or label or value, n)
                for value, label, n in cursor.fetchall()
            ]
    return counts


# --- Events -------------------------------------------------------------------------------------
# Most events in the ISAF press releases name nobody ("three suspected insurgents"), so they are
# found through their own facets: what happened, when, where, by whom and against whom.


def public_events():
    """Public events: `Event.objects.public()` (published, not retracted)."""
    return Event.objects.public()


def _event_kind():
    return [public_events().values(event_key=F("pk"), value=F("kind"), label=Value(""))]


def _event_year():
    """The year an event certainly falls in; events whose dates span years have none."""
    return [
        public_events()
        .annotate(first=ExtractYear("date_earliest"), last=ExtractYear("date_latest"))
        .filter(first=F("last"))
        .values(event_key=F("pk"), value=Cast("first", models.CharField()), label=Value(""))
    ]


def _event_province():
    """Events at a province or anywhere inside it (districts, localities)."""
    return [
        public_events()
        .filter(Q(**{f"{path}__kind": "province"}) & Place.public_q(f"{path}__"))
        .values(event_key=F("pk"), value=F(f"{path}__slug"), label=F(f"{path}__name"))
        for path in ("place", "place__parent", "place__parent__parent")
    ]


def _event_orgs(*roles):
    def build():
        links = EventOrganization.objects.public().filter(role__in=roles)
        return [
            links.values(
                event_key=F("event_id"),
                value=F("organization__slug"),
                label=F("organization__name"),
            )
        ]

    return build


EVENT_FACETS: dict[str, Facet] = {
    f.name: f
    for f in [
        Facet("kind", "What happened", _event_kind, dict(Event.Kind.choices), key="event_key"),
        Facet("year", "Year", _event_year, key="event_key"),
        Facet("province", "Province", _event_province, key="event_key", labels_from="place"),
        Facet(
            "group",
            "Target group, or group acted for",
            _event_orgs(EventOrganization.Role.GROUP),
            key="event_key",
            labels_from="organization",
        ),
        Facet(
            "force",
            "Forces (capturing, partner, or carrying out)",
            _event_orgs(
                EventOrganization.Role.CAPTURING_FORCE,
                EventOrganization.Role.PARTNER_FORCE,
                EventOrganization.Role.CARRIED_OUT_BY,
            ),
            key="event_key",
            labels_from="organization",
        ),
    ]
}


def linked_to(name: str, public_id) -> Q:
    """Events linked (through the lookup path `name`, ending in `public_id`) to the public
    record with this id: none for the id of a hidden record, as for an unknown one."""
    path = name.removesuffix("__public_id")
    field = Event._meta.get_field(path.split("__")[0])
    if field.one_to_many:  # people, organizations: links with their own table
        column = path.split("__")[1]
        link = field.related_model
        target = link._meta.get_field(column).related_model
        links = link.objects.filter(
            event=OuterRef("pk"),
            **{f"{column}__in": target.objects.public().filter(public_id=public_id)},
        )
        return Q(Exists(links))
    target = field.related_model
    return Q(**{f"{path}__in": target.objects.public().filter(public_id=public_id)})


class EventFacetFilterSet(django_filters.FilterSet):
    """The events list's facets, for the public page and the API alike, and its filters by a
    linked record's id. Each linked record is looked up through its own public(): the id of a
    draft or withdrawn one selects nothing, exactly as an unknown id does."""

    person = django_filters.UUIDFilter(
        field_name="people__person__public_id", method="filter_link", label="Person (id)"
    )
    organization = django_filters.UUIDFilter(
        field_name="organizations__organization__public_id",
        method="filter_link",
        label="Organization (id)",
    )
    place = django_filters.UUIDFilter(
        field_name="place__public_id", method="filter_link", label="Place (id)"
    )
    facility = django_filters.UUIDFilter(
        field_name="facility__public_id", method="filter_link", label="Facility (id)"
    )

    class Meta:
        model = Event
        fields = []

    def filter_link(self, queryset, name, value):
        return queryset.filter(linked_to(name, value))

    def __init__(self, data=None, *args, **kwargs):
        super().__init__(data, *args, **kwargs)
        for name, facet in EVENT_FACETS.items():
            if name in self.base_filters:
                continue  # the API keeps its own `kind` (a plain choice of the column)
            self.filters[name] = FacetFilter(facet, field_name=name)
            self.filters[name].parent = self
            self.filters[name].model = Event

    @property
    def narrows(self) -> bool:
        """Whether the selection may be smaller than every listed event."""
        return narrows(self)


def events_for_listing():
    """Public events as every list of events shows them (the events page and the lists on a
    record's page): the place with its province, the facility, the public subjects with their
    names (`public_subjects`), organizations and sources; undated first, then by date."""
    sources = Source.objects.public()
    return (
        public_events()
        .select_related("place__parent__parent", "facility")
        .prefetch_related(
            models.Prefetch(
                "people",
                queryset=EventPerson.objects.filter(
                    Person.public_q("person__"), role=EventPerson.Role.SUBJECT
                )
                .select_related("person")
                .prefetch_related("person__names"),
                to_attr="public_subjects",
            ),
            models.Prefetch(
                "organizations",
                queryset=EventOrganization.objects.filter(
                    Organization.public_q("organization__")
                ).select_related("organization"),
            ),
            models.Prefetch(
                "citations",
                # By source, so the page lists each source once ({% ifchanged %}).
                queryset=Citation.objects.filter(source__in=sources)
                .select_related("source")
                .order_by("source_id", "pk"),
            ),
        )
        .order_by(F("date_earliest").asc(nulls_first=True), "order_hint", "pk")
    )
