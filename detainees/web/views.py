"""Public pages: published records and public fields only."""

import functools
from pathlib import Path

from django.conf import settings
from django.db import router
from django.db.models import F
from django.http import FileResponse, Http404, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from detainees.domain.fuzzydates import FuzzyDate, FuzzyDateError
from detainees.domain.models import (
    Facility,
    Organization,
    Person,
    PersonRedirect,
    Place,
    ReleaseBatch,
    Source,
)
from detainees.read.bounds import MAX_SEARCH_LENGTH, too_long
from detainees.read.figures import figures, stored_figures
from detainees.read.filters import (
    SORTS,
    EventFacetFilterSet,
    PeoplePageFilterSet,
    PersonFilterSet,
    Who,
    event_facet_counts,
    events_for_listing,
    one_value,
    people_for_listing,
    person_facet_counts,
)
from detainees.read.geo import event_points, people_points
from detainees.read.listed_events import with_listed_parts
from detainees.read.pages import (
    batch_page,
    facility_page,
    organization_page,
    place_page,
    source_page,
)
from detainees.read.pagination import BadCursor, keyset_page
from detainees.read.person import person_page, person_queryset
from detainees.read.search import search_all
from detainees.read.unnamed import describe_people_in, describe_unnamed
from detainees.read.withdrawn import Gone, published_or_gone
from detainees.web.badrequest import bad_request
from detainees.web.streams import events_csv, people_csv
from detainees.write.exports.package import ARCHIVE, latest_archive
from detainees.write.exports.tables import TABLES
from tracker.outage import check_database


def answers_gone(view):
    """A record page that answers 410 Gone, with only the public reason, for withdrawn records."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except Gone as gone:
            context = {"withdrawal": gone.withdrawal}
            return render(request, "detainees/withdrawn.html", context, status=410)

    return wrapper


PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


class BadSize(ValueError):
    """`?size=` that is not a whole number from 1 to MAX_PAGE_SIZE."""


def page_size(request) -> int:
    """`?size=`, rows per page; checked as the API checks its `page_size` (400 naming it)."""
    raw = request.GET.get("size", "")
    if raw == "":
        return PAGE_SIZE
    try:
        size = int(raw)
    except ValueError:
        size = 0
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise BadSize(f"Invalid size: a whole number from 1 to {MAX_PAGE_SIZE}.")
    return size


def sort_for(filterset) -> tuple[str, bool]:
    return SORTS[filterset.ordering]


def section_cursors(request) -> dict[str, str]:
    """The cursors of the paged lists on a record's page: `<list>_after` parameters."""
    return {
        name.removesuffix("_after"): value
        for name, value in request.GET.items()
        if name.endswith("_after") and value
    }


@require_GET
def home(request):
    # The page reads nothing, but its search needs the database: an outage is a 503 here too.
    check_database(router.db_for_read(Person))
    return render(request, "detainees/home.html", {"filter": PersonFilterSet()})


@require_GET
def person_list(request):
    filterset = PeoplePageFilterSet(request.GET, queryset=people_for_listing())
    if not filterset.is_valid():
        context = {"filter": filterset, "page": None, "filters_open": True}
        context.update(who_links(request, filterset))
        return render(request, "detainees/person_list.html", context, status=400)
    field, descending = sort_for(filterset)
    try:
        page = keyset_page(
            filterset.qs,
            field=field,
            descending=descending,
            after=request.GET.get("after"),
            size=page_size(request),
        )
    except BadCursor as exc:
        return bad_request(request, {"after": [exc]})
    except BadSize as exc:
        return bad_request(request, {"size": [exc]})
    counts = person_facet_counts(
        filterset.qs,
        everyone=not filterset.narrows,
        subset=filterset.subset,
        one_value=one_value(filterset, PEOPLE_NOT_NARROWING),
    )
    context = faceted_page(request, filterset, page, counts, total_from="status")
    context["map"] = people_map(request.GET, filterset)
    context.update(who_links(request, filterset))
    describe_unnamed(page.rows)
    return render(request, "detainees/person_list.html", context)


# The people page's parameters that order, read or pick whom it shows (the subset), and never
# narrow the selection (PeoplePageFilterSet.narrows).
PEOPLE_NOT_NARROWING = frozenset({"sort", "captured_reading", "released_reading", "who"})


def who_links(request, filterset) -> dict:
    """Whom the people list shows (`who`), and the link to the same filters for the others."""
    params = request.GET.copy()
    params.pop("after", None)
    params.pop("who", None)
    detainees_only = params.urlencode()
    params["who"] = Who.ALL
    return {
        "who": filterset.who_value,
        "detainees_query": detainees_only,
        "everyone_query": params.urlencode(),
    }


def faceted_page(request, filterset, page, counts, *, total_from: str) -> dict:
    """A faceted list's context. The total is summed from a facet every row has exactly one
    value of, so it costs no COUNT(*) of its own."""
    params = request.GET.copy()
    params.pop("after", None)  # the facet links start again from the first page
    return {
        "filter": filterset,
        "page": page,
        "facets": [(filterset.form[name], counts[name]) for name in counts],
        "total": sum(n for _, _, n in counts[total_from]),
        "query_string": params.urlencode(),
        # The filters panel starts open while filters are in use, showing what is applied.
        "filters_open": filterset.narrows,
    }


@require_GET
def event_list(request):
    """Events by their own facets, latest first: how the unnamed captures of ISAF's press
    releases are found."""
    filterset = EventFacetFilterSet(request.GET, queryset=events_for_listing())
    if not filterset.is_valid():
        return bad_request(request, filterset.errors)
    try:
        page = keyset_page(
            # The page's parts read as tuples below, in as many queries as the prefetch.
            filterset.qs.prefetch_related(None),
            field="date_earliest",
            descending=True,
            after=request.GET.get("after"),
            size=page_size(request),
        )
    except BadCursor as exc:
        return bad_request(request, {"after": [exc]})
    except BadSize as exc:
        return bad_request(request, {"size": [exc]})
    counts = event_facet_counts(
        filterset.qs, everyone=not filterset.narrows, one_value=one_value(filterset)
    )
    context = faceted_page(request, filterset, page, counts, total_from="kind")
    context["map"] = events_map(request.GET, filterset)
    describe_people_in(with_listed_parts(page.rows))
    return render(request, "detainees/event_list.html", context)


# --- The map ----------------------------------------------------------------------------------
# A selection on the map: static/detainees/map.js draws the points of its GeoJSON (a request of
# its own, after the page), and /map/ lists the same points as a table, drawn here, which is the
# whole of the map without JavaScript. The lists and record pages carry the map and a link to
# that table rather than the table itself: over every event, the points take a grouped scan
# (about 1.5 s at 200,000 events) that the list pages must not wait for.

# A list's parameters that page or order it, and never change what is on the map.
NOT_SELECTING = {"after", "size", "sort"}


def query(params, *, renamed=None, dropped=NOT_SELECTING, **extra) -> str:
    """`params` as a query string for the map's links: without paging and ordering, without
    empty values (the API refuses them), with the site's names `renamed` to the API's."""
    out = QueryDict(mutable=True)
    for name, values in params.lists():
        kept = [v for v in values if v != ""]
        if name not in dropped and kept:
            out.setlist((renamed or {}).get(name, name), kept)
    for name, value in extra.items():
        out[name] = value
    return out.urlencode()


def with_query(url: str, query_string: str) -> str:
    return f"{url}?{query_string}" if query_string else url


def map_panel(selection, api_url: str, map_params: str, heading: str) -> dict:
    """`selection`: the points (a MapSelection) for /map/'s table, or None elsewhere."""
    return {
        "points": selection,
        "geojson_url": with_query(api_url, map_params),
        "heading": heading,
        "tiles": {
            "url": settings.MAP_TILE_URL,
            "attribution": settings.MAP_TILE_ATTRIBUTION,
            "attribution_url": settings.MAP_TILE_ATTRIBUTION_URL,
        },
    }


def people_map(params, filterset, heading="Where these people's events happened", table=False):
    panel = map_panel(
        people_points(filterset.qs) if table else None,
        reverse("api:person-places"),
        # The API's people filters name the site's `q` `search` (detainees.api.views).
        query(params, renamed={"q": "search"}, dropped=NOT_SELECTING | {"for"}),
        heading,
    )
    panel["page_url"] = with_query(reverse("detainees:map"), query(params, **{"for": "people"}))
    return panel


def events_map(params, filterset, heading="Where these events happened", table=False):
    panel = map_panel(
        event_points(filterset.qs) if table else None,
        reverse("api:event-places"),
        query(params, dropped=NOT_SELECTING | {"for"}),
        heading,
    )
    panel["page_url"] = with_query(
        reverse("detainees:map"), query(params, dropped=NOT_SELECTING | {"for"})
    )
    return panel


MAP_SELECTIONS = ("events", "people")


@require_GET
def map_page(request):
    """The map of a list's selection: `?for=events` (the default) with the events list's
    filters, or `?for=people` with the people list's."""
    selection = request.GET.get("for") or "events"
    if selection not in MAP_SELECTIONS:
        return bad_request(request, {"for": ["Either events or people."]})
    params = request.GET.copy()
    params.pop("for", None)
    if selection == "people":
        filterset = PersonFilterSet(params, queryset=people_for_listing())
    else:
        filterset = EventFacetFilterSet(params, queryset=events_for_listing())
    if not filterset.is_valid():
        return bad_request(request, filterset.errors)
    if selection == "people":
        panel = people_map(params, filterset, "People's events on the map", table=True)
        list_url = reverse("detainees:person-list")
    else:
        panel = events_map(params, filterset, "Events on the map", table=True)
        list_url = reverse("detainees:event-list")
    context = {
        "map": panel,
        "selection": selection,
        "narrowed": filterset.narrows,
        "list_url": with_query(list_url, query(params)),
        "other": {
            "events": reverse("detainees:map"),
            "people": f"{reverse('detainees:map')}?for=people",
        },
    }
    return render(request, "detainees/map.html", context)


@require_GET
def person_list_csv(request):
    """Exactly the current selection, in the list's order, streamed."""
    filterset = PeoplePageFilterSet(request.GET, queryset=people_for_listing())
    if not filterset.is_valid():
        return bad_request(request, filterset.errors)
    field, descending = sort_for(filterset)
    # The list's order: missing dates last in both directions, as keyset_page orders them.
    key = F(field).desc(nulls_last=True) if descending else F(field).asc(nulls_last=True)
    return people_csv(filterset.qs, (key, "-pk" if descending else "pk"))


@require_GET
def event_list_csv(request):
    """Every event of the current selection, in the list's order (latest first), streamed."""
    filterset = EventFacetFilterSet(request.GET, queryset=events_for_listing())
    if not filterset.is_valid():
        return bad_request(request, filterset.errors)
    # As keyset_page orders the list: undated events last, then the newest row first.
    return events_csv(filterset.qs)


@require_GET
def figures_view(request):
    filterset = PeoplePageFilterSet(request.GET, queryset=people_for_listing())
    if not filterset.is_valid():
        return bad_request(request, filterset.errors)
    params = request.GET.copy()
    params.pop("after", None)
    counts = person_facet_counts(
        filterset.qs,
        everyone=not filterset.narrows,
        subset=filterset.subset,
        one_value=one_value(filterset, PEOPLE_NOT_NARROWING),
    )
    context = {
        "filter": filterset,
        "facets": [(filterset.form[name], counts[name]) for name in counts],
        "figures": stored_figures(filterset.qs, filterset.subset or "all")
        if not filterset.narrows
        else figures(filterset.qs),
        "filtered": filterset.narrows,
        "filters_open": filterset.narrows,
        "query_string": params.urlencode(),
        **who_links(request, filterset),
    }
    return render(request, "detainees/figures.html", context)


@require_GET
@answers_gone
def person_detail(request, slug):
    try:
        person = published_or_gone(person_queryset(), slug=slug)
    except Http404:
        merged_into = PersonRedirect.objects.public_target(old_slug=slug)
        if merged_into is None:
            raise
        return redirect(merged_into.get_absolute_url(), permanent=True)
    return render(request, "detainees/person_detail.html", person_page(person))


@require_GET
@answers_gone
def permalink(request, public_id):
    try:
        person = published_or_gone(Person.objects.public(), public_id=public_id)
    except Http404:
        person = PersonRedirect.objects.public_target(old_public_id=public_id)
        if person is None:
            raise
    return redirect(person.get_absolute_url(), permanent=True)


@require_GET
def search(request):
    q = request.GET.get("q", "").strip()
    if len(q) > MAX_SEARCH_LENGTH:  # before the search: a trigram match costs with its length
        context = {"q": "", "results": {}, "error": too_long(MAX_SEARCH_LENGTH, len(q))}
        return render(request, "detainees/search.html", context, status=400)
    results = search_all(q) if q else {}
    describe_unnamed(results.get("people", []))
    return render(request, "detainees/search.html", {"q": q, "results": results})


def record_page(request, build, record, template: str):
    """A record's page, its sections paged by the cursors in the query string (400 if bad)."""
    try:
        context = build(record, section_cursors(request))
    except BadCursor as exc:
        return bad_request(request, {exc.param: [exc]})
    return render(request, f"detainees/{template}", context)


@require_GET
@answers_gone
def organization_detail(request, slug):
    organization = published_or_gone(
        Organization.objects.public().select_related("parent").prefetch_related("names"),
        slug=slug,
    )
    return record_page(request, organization_page, organization, "organization_detail.html")


@require_GET
@answers_gone
def facility_detail(request, slug):
    facility = published_or_gone(Facility.objects.public().select_related("place"), slug=slug)
    on, error, status = None, None, 200
    if request.GET.get("on"):
        try:
            on = FuzzyDate.parse(request.GET["on"])
            if on.earliest is None or on.latest is None:
                raise FuzzyDateError("Give a date with both ends, such as 'March 2013'.")
        except FuzzyDateError as exc:
            on, error, status = None, str(exc), 400
    try:
        context = facility_page(
            facility,
            on=on,
            after=request.GET.get("after"),
            held_after=request.GET.get("held_after"),
        )
    except BadCursor as exc:
        return bad_request(request, {exc.param: [exc]})
    context.update({"on_text": request.GET.get("on", ""), "on_error": error})
    params = QueryDict(mutable=True)
    params["facility"] = str(facility.public_id)
    filterset = EventFacetFilterSet(params, queryset=events_for_listing())
    filterset.is_valid()  # an id of a public facility: always valid
    context["map"] = events_map(params, filterset, f"{facility.name} and its events on the map")
    return render(request, "detainees/facility_detail.html", context, status=status)


@require_GET
@answers_gone
def source_detail(request, public_id):
    # A confidential source was never public, so a withdrawn one is not "gone" either.
    source = published_or_gone(
        Source.objects.public().select_related("publisher"),
        public_id=public_id,
        is_confidential=False,
    )
    return render(request, "detainees/source_detail.html", source_page(source))


@require_GET
@answers_gone
def batch_detail(request, slug):
    batch = published_or_gone(
        ReleaseBatch.objects.public().select_related("ordered_by", "carried_out_by"),
        slug=slug,
    )
    return record_page(request, batch_page, batch, "batch_detail.html")


@require_GET
@answers_gone
def place_detail(request, slug):
    place = published_or_gone(Place.objects.public().select_related("parent__parent"), slug=slug)
    return record_page(request, place_page_with_map, place, "place_detail.html")


def place_page_with_map(place, cursors) -> dict:
    """The place's page, with its events (there and anywhere inside it) on the map."""
    params = QueryDict(mutable=True)
    params["within"] = str(place.public_id)
    filterset = EventFacetFilterSet(params, queryset=events_for_listing())
    filterset.is_valid()  # an id of a public place: always valid
    heading = f"Where events in {place.name} happened"
    return {**place_page(place, cursors), "map": events_map(params, filterset, heading)}


@require_GET
def data_download(request):
    """The latest export of every published record, with its date and size, and the tables."""
    latest = latest_archive(settings.EXPORT_DIR)
    return render(request, "detainees/data.html", {"latest": latest, "tables": TABLES})


@require_GET
def data_archive(request):
    """The latest data package as a zip; 404 until `manage.py export --archive` has run."""
    if latest_archive(settings.EXPORT_DIR) is None:
        raise Http404("No export has been made yet.")
    path = Path(settings.EXPORT_DIR) / ARCHIVE
    return FileResponse(path.open("rb"), as_attachment=True, filename=ARCHIVE)


# What each page reads from its query string (besides `size` and the cursor `after`): the bounds
# tests send hostile values to every one of these, and the README's "Limits" lists them.
for _view in (person_list, person_list_csv, figures_view):
    _view.filterset_class = PeoplePageFilterSet
# The map reads the events list's filters, or with `?for=people` the people list's.
for _view in (event_list, event_list_csv, map_page):
    _view.filterset_class = EventFacetFilterSet
facility_detail.date_params = ("on",)
search.text_params = ("q",)
