"""The people and events lists' FilterSets, for the public pages, CSV and the API, and their
facet counts.

Each facet (detainees.read.facets) is a set of (record, value, label) pairs built from public
records. The pairs are stored per person and per event, as "facet=value"
(detainees.read.listing_store), and that one stored array both filters the list (a record
matches when it has a selected value) and counts it (records in the current selection per
value, grouped by the integer codes PostgreSQL stores beside it), so a facet's counts always
match its results. Each FilterSet class declares a filter per facet, so the class itself
(`base_filters`) lists them, as the API schema reads it.
"""

import json
from datetime import UTC, date

import django_filters
from django import forms
from django.contrib.postgres.fields import DateRangeField
from django.db import DatabaseError, connections, models, router, transaction
from django.db.models import Exists, F, Func, OuterRef, Q, Value
from django_filters.fields import IsoDateTimeField, MultipleChoiceField

from detainees.domain.fuzzydates import FuzzyDate, FuzzyDateError
from detainees.domain.models import (
    Citation,
    Event,
    EventFacetTotal,
    EventOrganization,
    EventPerson,
    FacetTotal,
    Facility,
    Organization,
    Person,
    Place,
    Source,
)
from detainees.read.bounds import MAX_CHOICE_LENGTH, MAX_DATE_LENGTH, MAX_SEARCH_LENGTH, too_long
from detainees.read.facets import EVENT_FACETS, FACETS, Facet, public_events
from detainees.read.listing import CAPTURED_KINDS, RELEASED_KINDS, own_events
from detainees.read.listing_store import COLUMNS as LISTING_COLUMNS
from detainees.read.search import search_people

# --- Date ranges --------------------------------------------------------------------------------


class Reading(models.TextChoices):
    POSSIBLY = "possibly", "possibly in the range (the dates overlap it)"
    CERTAINLY = "certainly", "certainly in the range (the dates lie inside it)"


class DayRange(Func):
    """The days from `start` to `end`, both included; unbounded on a side given as None."""

    template = "daterange(%(expressions)s::date, '[]')"
    arg_joiner = "::date, "
    output_field = DateRangeField()


# Per date filter: the events' kinds, and the stored list's column of their spans.
DATE_FILTERS = {
    "captured": (CAPTURED_KINDS, "capture_spans"),
    "released": (RELEASED_KINDS, "release_spans"),
}


def date_range_q(
    prefix: str, start: date | None, end: date | None, reading: str, *, listed=False
) -> Q:
    """People with an event of the filter's kinds (`DATE_FILTERS[prefix]`) possibly or
    certainly inside [start, end]. With `listed` (a selection of the stored list), "possibly"
    reads the spans stored in each person's row (one overlap, indexed) when the range is a
    range: `events_in_range_q` otherwise, whose semantics the spans keep exactly."""
    kinds, column = DATE_FILTERS[prefix]
    if listed and reading != Reading.CERTAINLY and not (start and end and start > end):
        return Q(**{f"listing__{column}__overlap": DayRange(Value(start), Value(end))})
    return events_in_range_q(kinds, start, end, reading)


def events_in_range_q(kinds, start: date | None, end: date | None, reading: str) -> Q:
    """People with an event of these kinds possibly or certainly inside [start, end], read from
    the events themselves (the reference of `date_range_q`)."""
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
    # Best match first (`search_rank`, from detainees.read.search), with a name searched only.
    "relevance": ("search_rank", True),
    # Unnamed people last in both directions (detainees.read.listing.name_key).
    "name": ("name_asc", False),
    "-name": ("name_desc", True),
    "captured": ("first_capture", False),
    "-captured": ("first_capture", True),
    "released": ("last_release", False),
    "-released": ("last_release", True),
}
SORT_CHOICES = [
    ("relevance", "Best match to the name (A–Z without one)"),
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
        qs = qs.filter(listing__facets__overlap=tokens)
        return qs.filter(self.facet.implied(list(value))) if self.facet.implied else qs


class FacetFilterSet(django_filters.FilterSet):
    """A FilterSet whose class has a `FacetFilter` for each of its `facets`, after its other
    filters; a filter the class (or a subclass) declares under a facet's name is kept instead
    (the API's events keep their own `kind`, a plain choice of the column)."""

    facets: dict[str, Facet] = {}

    @classmethod
    def get_filters(cls):
        # django-filter's metaclass calls this once, when the class is defined, for base_filters.
        filters = super().get_filters()
        for name, facet in cls.facets.items():
            if name not in filters:
                filters[name] = FacetFilter(facet, field_name=name)
        return filters


class PersonFilterSet(FacetFilterSet):
    facets = FACETS

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
    # A choice rather than a BooleanFilter, which reads "maybe" as absent: a value that is
    # neither is refused (400), not silently ignored.
    detainee = django_filters.ChoiceFilter(
        choices=[("true", "true"), ("false", "false")],
        method="filter_detainee",
        label="Detainees only (true) or everyone else (false); everyone when absent",
    )

    class Meta:
        model = Person
        fields = []

    def noop(self, queryset, name, value):
        return queryset

    def filter_detainee(self, queryset, name, value):
        return queryset.filter(is_detainee=value == "true")

    def filter_search(self, queryset, name, value):
        return search_people(value, queryset=queryset)

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        data = self.form.cleaned_data
        # A selection of the stored list (`people_for_listing`) filters by its stored spans;
        # any other (the API's staff list, drafts included) by the events.
        listed = LISTED in self.queryset.query.annotations
        for prefix in DATE_FILTERS:
            start, end = data.get(f"{prefix}_from"), data.get(f"{prefix}_to")
            if start or end:
                reading = data.get(f"{prefix}_reading") or Reading.POSSIBLY
                queryset = queryset.filter(date_range_q(prefix, start, end, reading, listed=listed))
        return queryset

    @property
    def narrows(self) -> bool:
        """Whether the selection may be smaller than every published person (or than every
        detainee, for a selection of detainees: see `subset`)."""
        ignored = {"sort", "captured_reading", "released_reading", "detainee"}
        return narrows(self, ignored=ignored) or (
            self.is_bound and self.is_valid() and self.form.cleaned_data.get("detainee") == "false"
        )

    @property
    def subset(self) -> str | None:
        """ "detainees" when the selection is of detainees only, whose unfiltered counts are
        the stored totals' `detainees`; None when it is of everyone."""
        data = self.form.cleaned_data if self.is_bound and self.is_valid() else {}
        return "detainees" if data.get("detainee") == "true" else None

    @property
    def ordering(self) -> str:
        """The SORTS key the list is in: the one asked for, else best match first when a name
        is searched; relevance without a name searched is by name."""
        data = self.form.cleaned_data if self.is_bound and self.is_valid() else {}
        sort = data.get("sort") or "relevance"
        if sort == "relevance" and not data.get("q"):
            return "name"
        return sort


class Who(models.TextChoices):
    DETAINEES = "detainees", "Detainees"
    ALL = "all", "All people"


class PeoplePageFilterSet(PersonFilterSet):
    """The site's people list, its CSV and its figures: detainees (`DETAINEE_EVENT_KINDS`) by
    default, everyone with `?who=all` (the officials who ordered releases, relatives, people
    named in a decision and nothing else). The API's list keeps everyone by default and takes
    `?detainee=true` instead: a script reading every person must not lose any by an upgrade."""

    detainee = None
    who = django_filters.ChoiceFilter(
        choices=Who.choices, label="Show", method="noop", empty_label=None
    )

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if self.subset == "detainees":
            queryset = queryset.filter(is_detainee=True)
        return queryset

    @property
    def who_value(self) -> str:
        data = self.form.cleaned_data if self.is_bound and self.is_valid() else {}
        return data.get("who") or Who.DETAINEES

    @property
    def subset(self) -> str | None:
        return "detainees" if self.who_value == Who.DETAINEES else None

    @property
    def narrows(self) -> bool:
        ignored = {"sort", "captured_reading", "released_reading", "who"}
        return narrows(self, ignored=ignored)


# Marks a queryset of `people_for_listing` (an alias: selects nothing).
LISTED = "from_listing"


def people_for_listing():
    """Published people with the stored list's columns (see detainees.read.listing_store)."""
    columns = {c: F(f"listing__{c}") for c in LISTING_COLUMNS}
    return (
        Person.objects.public()
        .filter(listing__isnull=False)
        .alias(**{LISTED: Value(True)})
        .annotate(**columns)
    )


LABEL_MODELS = {"organization": Organization, "facility": Facility, "place": Place}


def person_facet_counts(
    selection, *, everyone=False, subset: str | None = None, one_value: str | None = None
) -> dict[str, list[tuple[str, str, int]]]:
    """`facet_counts` for a selection from `people_for_listing()`, read from the stored list.
    With `everyone`, the selection is every listed person, or every detainee when `subset` is
    "detainees". `one_value`: the selection is exactly the people (of the subset) having this
    one "facet=value" (`one_value()`), whose counts may be stored."""
    column = "detainees" if subset == "detainees" else "people"
    stored = ("people", f"{subset or 'all'} {one_value}") if one_value else None
    return stored_facet_counts(
        selection, FACETS, FacetTotal, column, everyone=everyone, stored=stored
    )


def event_facet_counts(
    selection, *, everyone=False, one_value: str | None = None
) -> dict[str, list[tuple[str, str, int]]]:
    """`facet_counts` for a selection from `events_for_listing()`, read from the stored list."""
    stored = ("events", one_value) if one_value else None
    return stored_facet_counts(
        selection, EVENT_FACETS, EventFacetTotal, "events", everyone=everyone, stored=stored
    )


def one_value(filterset, ignored=frozenset()) -> str | None:
    """The one "facet=value" a valid filterset selects by, when it narrows by nothing else
    (`ignored` orders, reads or picks the subset, never narrowing), else None."""
    if not (filterset.is_bound and filterset.is_valid()):
        return None
    used = {k: v for k, v in filterset.form.cleaned_data.items() if v and k not in ignored}
    if len(used) != 1:
        return None
    [(name, values)] = used.items()
    facet = filterset.facets.get(name)
    if not isinstance(filterset.filters.get(name), FacetFilter) or facet is None:
        return None
    if not isinstance(values, list) or len(values) != 1:
        return None
    return f"{facet.name}={values[0]}"


def _count_tokens(selection, totals) -> list[tuple[str, int]]:
    """("facet=value", records of `selection` having it) for every value the selection has.

    Counted by the values' integer codes (the stored lists' `facet_codes`, migration 0047),
    which PostgreSQL groups faster than their text, and named again by the `totals` (FacetTotal
    or EventFacetTotal), which hold every value a listed record has, in the same query. A code
    the totals name no value by, or by two (two values sharing a code: possible with 32 bits,
    if rarely), leaves the codes unreadable for this selection: its text is counted instead
    (`_count_text`, the reference the tests hold these counts equal to)."""
    codes = selection.order_by().values(codes=F("listing__facet_codes"))
    sql, params = codes.query.sql_with_params()
    table = totals._meta.db_table  # a model's table, never input
    with connections[codes.db].cursor() as cursor:
        cursor.execute(
            "SELECT c.code, t.token, c.n FROM ("  # noqa: S608 (compiled querysets and a model's table; values are parameters)
            "SELECT code, count(*) AS n FROM "
            f"(SELECT unnest(s.codes) AS code FROM ({sql}) s) u GROUP BY code"
            f") c LEFT JOIN {table} t ON detainees_facet_code(t.token) = c.code",
            params,
        )
        rows = cursor.fetchall()
    named = {code for code, token, _ in rows if token is not None}
    if len(named) < len(rows):  # a code named by no value, or by more than one
        return _count_text(selection)
    return [(token, n) for _, token, n in rows]


def _count_text(selection) -> list[tuple[str, int]]:
    """`_count_tokens(selection, totals)`, grouping the values' text."""
    tokens = selection.order_by().values(tokens=F("listing__facets"))
    sql, params = tokens.query.sql_with_params()
    with connections[tokens.db].cursor() as cursor:
        cursor.execute(
            f"SELECT token, count(*) FROM (SELECT unnest(s.tokens) AS token FROM ({sql}) s) t "  # noqa: S608 (compiled querysets; values are parameters)
            "GROUP BY token",
            params,
        )
        return cursor.fetchall()


def _stored_token_counts(selection, stored: tuple[str, str], totals) -> list[tuple[str, int]]:
    """`_count_tokens(selection, totals)`, read back from the counts stored for `stored` (list,
    selection key) while the list's generation has not moved since they were counted (a
    statement writing the list or its records moves it: migration 0042); else counted, and
    stored for the next reader on the database writes go to."""
    name, key = stored
    # The generation and the counts from the same database (a replica for anonymous readers),
    # so counts stored are those of the generation they are stored under.
    with connections[selection.db].cursor() as cursor:
        cursor.execute(
            "SELECT s.counts::text, g.generation FROM detainees_listing_generation g "
            "LEFT JOIN detainees_facet_counts_stored s "
            "ON s.list = g.list AND s.selection = %s AND s.generation = g.generation "
            "WHERE g.list = %s",
            [key, name],
        )
        data, generation = cursor.fetchone()
    if data is not None:
        return [(token, n) for token, n in json.loads(data)]
    # Counted after the generation was read: at least as new as the list of that generation.
    rows = _count_tokens(selection, totals)
    if not rows:
        # A value no record has (any text can be asked for): nothing is stored, so the table
        # holds at most a row per value present in the list.
        return rows
    writing = router.db_for_write(Person)
    try:
        with transaction.atomic(using=writing), connections[writing].cursor() as cursor:
            cursor.execute(
                "INSERT INTO detainees_facet_counts_stored (list, selection, generation, counts) "
                "VALUES (%s, %s, %s, %s::jsonb) ON CONFLICT (list, selection) DO UPDATE "
                "SET generation = EXCLUDED.generation, counts = EXCLUDED.counts "
                "WHERE detainees_facet_counts_stored.generation < EXCLUDED.generation",
                [name, key, generation, json.dumps(rows)],
            )
    except DatabaseError:
        pass  # a database that refuses writes (a read-only standby): the next reader stores them
    return rows


def stored_facet_counts(selection, facets, totals, count_column, *, everyone=False, stored=None):
    """Per facet, (value, label, rows) for every value present, most first, from the stored
    list (detainees.read.listing_store): one query counting every facet's values in the selection
    (or reading the stored totals, when the selection is `everyone` listed, or the counts
    stored for a selection by one value, `stored`), and one for the names of the records whose
    slugs the values are."""
    if everyone:
        rows = [
            (token, n)
            for token, n in totals.objects.values_list("token", count_column)
            if n  # a value only people outside the subset have
        ]
    elif stored:
        rows = _stored_token_counts(selection, stored, totals)
    else:
        rows = _count_tokens(selection, totals)
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
    with connections[selection.db].cursor() as cursor:
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


class EventFacetFilterSet(FacetFilterSet):
    """The events list's facets, for the public page and the API alike, and its filters by a
    linked record's id. Each linked record is looked up through its own public(): the id of a
    draft or withdrawn one selects nothing, exactly as an unknown id does."""

    facets = EVENT_FACETS

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
    within = django_filters.UUIDFilter(
        field_name="place__public_id",  # a place's id, as `place` takes
        method="filter_within",
        label="Place or anywhere inside it (id)",
    )

    class Meta:
        model = Event
        fields = []

    def filter_link(self, queryset, name, value):
        return queryset.filter(linked_to(name, value))

    def filter_within(self, queryset, name, value):
        """Events at the place or at a place inside it (a district of a province, a locality
        of a district), as a place's page lists them; none for a hidden place's id."""
        places = Place.objects.public().filter(public_id=value)
        return queryset.filter(
            Q(place__in=places) | Q(place__parent__in=places) | Q(place__parent__parent__in=places)
        )

    @property
    def narrows(self) -> bool:
        """Whether the selection may be smaller than every listed event."""
        return narrows(self)


def public_subjects():
    """An event's public subjects with their names, as `public_subjects`."""
    return models.Prefetch(
        "people",
        queryset=EventPerson.objects.filter(
            Person.public_q("person__"), role=EventPerson.Role.SUBJECT
        )
        .select_related("person")
        .prefetch_related("person__names"),
        to_attr="public_subjects",
    )


def events_for_listing():
    """Public events as every list of events shows them (the events page and the lists on a
    record's page): the place with its province, the facility, the public subjects with their
    names (`public_subjects`), organizations and sources; undated first, then by date."""
    sources = Source.objects.public()
    return (
        public_events()
        .select_related("place__parent__parent", "facility")
        .prefetch_related(
            public_subjects(),
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
