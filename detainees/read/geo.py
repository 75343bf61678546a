"""Where a selection of people or events happened: the places and facilities of its public
events, with how many of the selection's people and events each holds, for the map, its
fallback table and the GeoJSON endpoints.

A point is a public place (of any kind: a province or district is drawn at its own coordinates)
or a public facility that a public event of the selection names. An event at a facility counts
at the facility and at its place: both are where it happened. A point whose record has no
coordinates is kept apart (`not_on_map`), never placed at its parent's or a guessed position.

A selection of events costs two grouped queries (places, facilities), one of people one query,
whatever the size of the selection.
"""

from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from django.db import connections, transaction
from django.db.models import Count, F, Q
from django.urls import reverse

from detainees.domain.models import Event, EventPerson, Facility, Person, Place

FACILITY = "facility"  # the `kind` of a facility's point; a place's is its own kind


@dataclass(frozen=True)
class MapPoint:
    id: UUID
    name: str
    kind: str  # a Place.Kind value, or FACILITY
    url: str
    latitude: Decimal | None
    longitude: Decimal | None
    people: int  # the selection's people with an event here (as its subject)
    events: int  # the selection's events here

    @property
    def kind_label(self) -> str:
        return "Facility" if self.kind == FACILITY else Place.Kind(self.kind).label

    @property
    def on_map(self) -> bool:
        return self.latitude is not None and self.longitude is not None


@dataclass(frozen=True)
class MapSelection:
    points: list[MapPoint]  # with coordinates: the map's markers and the fallback table's rows
    not_on_map: list[MapPoint]  # named by the selection's events, without coordinates

    def __bool__(self) -> bool:
        return bool(self.points or self.not_on_map)

    def geojson(self) -> dict:
        """An RFC 7946 FeatureCollection of the points, longitude first; the records without
        coordinates in the foreign member `not_on_map`. Page addresses are paths on this site,
        as everywhere in the API."""
        return {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "id": str(point.id),
                    "geometry": {
                        "type": "Point",
                        "coordinates": [float(point.longitude), float(point.latitude)],
                    },
                    "properties": _properties(point),
                }
                for point in self.points
            ],
            "not_on_map": [_properties(point) for point in self.not_on_map],
        }


def _properties(point: MapPoint) -> dict:
    return {
        "id": str(point.id),
        "name": point.name,
        "kind": point.kind,
        "url": point.url,
        "people": point.people,
        "events": point.events,
    }


RECORD_FIELDS = ("public_id", "name", "slug", "latitude", "longitude")


def _grouped(rows, path: str, *, event: str, person: str, person_filter: Q | None = None):
    """(record fields..., people, events) per record at `path` of `rows`, one query."""
    people = Count(person, distinct=True, filter=person_filter)
    fields = {f"at_{name}": F(f"{path}__{name}") for name in RECORD_FIELDS}
    if path.endswith("place"):
        fields["at_kind"] = F(f"{path}__kind")
    return rows.values(**fields).annotate(people=people, events=Count(event, distinct=True))


def _points(rows, kind_of, detail: str) -> list[MapPoint]:
    return [
        MapPoint(
            id=row["at_public_id"],
            name=row["at_name"],
            kind=kind_of(row),
            url=reverse(detail, args=[row["at_slug"]]),
            latitude=row["at_latitude"],
            longitude=row["at_longitude"],
            people=row["people"],
            events=row["events"],
        )
        for row in rows
    ]


def _selection(places, facilities) -> MapSelection:
    found = _points(places, lambda row: row["at_kind"], "detainees:place-detail") + _points(
        facilities, lambda row: FACILITY, "detainees:facility-detail"
    )
    found.sort(key=lambda p: (-p.people, -p.events, p.name, str(p.id)))
    return MapSelection(
        points=[p for p in found if p.on_map], not_on_map=[p for p in found if not p.on_map]
    )


def event_points(events) -> MapSelection:
    """The places and facilities of `events` (a queryset of public events, any ordering), with
    their events and the public people those name as subject."""
    rows = Event.objects.filter(pk__in=events.order_by().values("pk"))
    subjects = Q(people__role=EventPerson.Role.SUBJECT) & Person.public_q("people__person__")
    counted = {"event": "pk", "person": "people__person", "person_filter": subjects}
    places = rows.filter(Place.public_q("place__"))
    facilities = rows.filter(Facility.public_q("facility__"))
    return _selection(
        _grouped(places, "place", **counted), _grouped(facilities, "facility", **counted)
    )


def people_points(people) -> MapSelection:
    """The places and facilities of the public events `people` (a queryset of public people)
    are the subject of, with those people and events.

    One query: the selection's (person, event, place, facility) rows are read once, their
    distinct people and events counted per place and per facility by id (sorting integers,
    not 100,000s of rows carrying six columns of the record), and the few hundred public
    records they name joined at the end. Equal to `people_points_reference`
    (tests/test_map_fast.py)."""
    seen = (
        _subject_rows(people)
        .order_by()
        .values(
            "person_id", "event_id", place=F("event__place_id"), facility=F("event__facility_id")
        )
    )
    places = Place.objects.filter(Place.public_q()).order_by().values("id", *RECORD_FIELDS, "kind")
    facilities = (
        Facility.objects.filter(Facility.public_q()).order_by().values("id", *RECORD_FIELDS)
    )
    parts = [_sql(seen), _sql(places), _sql(facilities)]
    fields = ", ".join(f"r.{name} AS at_{name}" for name in RECORD_FIELDS)
    sql = (
        f"WITH seen AS MATERIALIZED ({parts[0][0]}) "  # noqa: S608 (compiled querysets)
        f"SELECT 'place' AS record, {fields}, r.kind AS at_kind, c.people, c.events "
        f"FROM ({parts[1][0]}) r JOIN ({COUNTED.format(at='place')}) c ON c.at = r.id "
        f"UNION ALL SELECT 'facility', {fields}, NULL, c.people, c.events "
        f"FROM ({parts[2][0]}) r JOIN ({COUNTED.format(at='facility')}) c ON c.at = r.id"
    )
    db = people.db
    with transaction.atomic(using=db), connections[db].cursor() as cursor:
        # The rows of a large selection sorted in memory, not spilled to disk; no
        # compiling of expressions, which costs more than it saves for a query run once.
        cursor.execute(
            "SELECT set_config('work_mem', '64MB', true), set_config('jit', 'off', true)"
        )
        cursor.execute(sql, [param for _, params in parts for param in params])
        names = [column.name for column in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return _selection(
        [row for row in rows if row["record"] == "place"],
        [row for row in rows if row["record"] == "facility"],
    )


# The people (events) of `seen` at each place (facility), each counted once: one sort of
# integer triples in memory per kind of record.
COUNTED = (
    "SELECT {at} AS at, count(DISTINCT person_id) AS people, count(DISTINCT event_id) AS events "
    "FROM seen WHERE {at} IS NOT NULL GROUP BY 1"
)


def _subject_rows(people):
    """The rows naming `people` (a queryset of public people) as subject of a public event."""
    return EventPerson.objects.filter(
        Event.public_q("event__"),
        role=EventPerson.Role.SUBJECT,
        person__in=people.order_by().values("pk"),
    )


def _sql(queryset) -> tuple[str, tuple]:
    # A selection known empty compiles to a condition never true, not to an error.
    return queryset.query.get_compiler(queryset.db, elide_empty=False).as_sql()


def people_points_reference(people) -> MapSelection:
    """`people_points` as two grouped queries through the ORM: the definition the fast one
    is tested against."""
    rows = _subject_rows(people)
    counted = {"event": "event", "person": "person"}
    places = rows.filter(Place.public_q("event__place__"))
    facilities = rows.filter(Facility.public_q("event__facility__"))
    return _selection(
        _grouped(places, "event__place", **counted),
        _grouped(facilities, "event__facility", **counted),
    )
