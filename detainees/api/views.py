"""Record endpoints: published records for everyone, the public site's filters, keyset pages,
JSON or CSV; writes for signed-in roles (detainees.api.writes)."""

import uuid

import django_filters
from django.db.models import Prefetch
from django.http import Http404, HttpResponsePermanentRedirect
from django.urls import reverse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from detainees.api import serializers as s
from detainees.api.conditional import with_etag
from detainees.api.errors import RefuseEmptyParameters
from detainees.api.pagination import KeysetPagination
from detainees.api.renderers import CSVRenderer, GeoJSONRenderer, JSONRenderer
from detainees.api.writes import (
    AffiliationWriteSerializer,
    EventWriteSerializer,
    FacilityWriteSerializer,
    OrganizationWriteSerializer,
    PersonWriteSerializer,
    PlaceWriteSerializer,
    RelationshipWriteSerializer,
    ReleaseBatchWriteSerializer,
    SourceWriteSerializer,
    WritableMixin,
)
from detainees.domain.models import (
    Affiliation,
    Event,
    EventOrganization,
    EventPerson,
    Facility,
    Organization,
    Person,
    PersonRedirect,
    Place,
    PublicationStatus,
    Relationship,
    ReleaseBatch,
    Source,
)
from detainees.domain.models.sources import citations_prefetch
from detainees.read.bounds import MAX_SEARCH_LENGTH
from detainees.read.filters import (
    SORTS,
    EventFacetFilterSet,
    PersonFilterSet,
    UpdatedSinceFilter,
    event_facet_counts,
    people_for_listing,
    person_facet_counts,
)
from detainees.read.geo import event_points, people_points
from detainees.read.listing import annotate_listing
from detainees.read.pages import with_batch_parts, with_facility_parts
from detainees.read.person import person_queryset
from detainees.read.person_lines import person_detail
from detainees.read.withdrawn import withdrawal

PUBLISHED = PublicationStatus.PUBLISHED
BY_CREATED = {"created": ("created", False), "-created": ("created", True)}
BY_UPDATED = {"updated": ("updated", False), "-updated": ("updated", True)}


class UpdatedSinceFilterSet(django_filters.FilterSet):
    updated_since = UpdatedSinceFilter(
        field_name="updated", lookup_expr="gte", label="Changed at or after (ISO 8601)"
    )


class RecordGone(exceptions.APIException):
    status_code = status.HTTP_410_GONE
    default_code = "withdrawn"


class ReadOnlyViewSet(RefuseEmptyParameters, viewsets.ReadOnlyModelViewSet):
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    pagination_class = KeysetPagination
    renderer_classes = [JSONRenderer, CSVRenderer]
    filter_backends = [DjangoFilterBackend]
    orderings = {**BY_CREATED, **BY_UPDATED}
    default_ordering = "created"

    # Lookups a withdrawn record must also match to answer 410 rather than 404.
    gone_lookup = {}

    def get_object(self):
        """The published record; 410 with the public reason if it was withdrawn after publication."""
        try:
            return super().get_object()
        except Http404:
            lookup = {self.lookup_field: self.kwargs[self.lookup_url_kwarg], **self.gone_lookup}
            gone = withdrawal(self.get_queryset().model, **lookup)
            if gone is None:
                raise
            raise RecordGone(
                {"detail": f"This {gone.kind} was withdrawn.", "reason": gone.reason}
            ) from None

    # Parameters of the public site's pages that mean something else here: {site name: API name}.
    site_parameters: dict[str, str] = {}

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if self.action in ("list", "facets", "places"):
            used = {
                name: [f"Not an API parameter: use `{api_name}`."]
                for name, api_name in self.site_parameters.items()
                if name in request.query_params
            }
            if used:
                raise exceptions.ValidationError(used)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        data = getattr(response, "data", None)
        if isinstance(data, dict) and data.get("next"):
            response["Link"] = f'<{data["next"]}>; rel="next"'
        one = self.action == "retrieve" or (self.action == "by_key" and request.method == "GET")
        if one and response.status_code == 200:
            response = with_etag(request, response)
        return response


class WritableViewSet(
    WritableMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ReadOnlyViewSet,
):
    """A record type scripts may also create, edit, withdraw and delete."""


class PersonAPIFilterSet(PersonFilterSet):
    """The people list's filters under the API's names: `search` for the site's `q`, and the
    list's `ordering` (detainees.api.pagination) for the site's `sort`."""

    q = None
    sort = None
    search = django_filters.CharFilter(
        label="Any name, spelling-tolerant", method="filter_search", max_length=MAX_SEARCH_LENGTH
    )
    updated_since = UpdatedSinceFilter(
        field_name="updated", lookup_expr="gte", label="Changed at or after (ISO 8601)"
    )


class FacetCountsMixin:
    """`GET <list>/facets/?<the list's filters>`: how many of the records those filters select
    have each value of each facet; the counts the public list shows beside its checkboxes."""

    count_facets = None  # a function (selection, *, everyone) -> {facet: [(value, label, n)]}

    @extend_schema(
        responses={200: s.FacetCountsSerializer},
        description="Counts of every facet value among the records the filters select (JSON only).",
        filters=True,
    )
    @action(detail=False, methods=["get"], renderer_classes=[JSONRenderer], pagination_class=None)
    def facets(self, request):
        filterset = DjangoFilterBackend().get_filterset(request, self.list_queryset(), self)
        if not filterset.is_valid():
            raise exceptions.ValidationError(filterset.errors)
        # The people's `?detainee=true` counts among detainees, from their own stored totals.
        subset = getattr(filterset, "subset", None)
        extra = {"subset": subset} if subset else {}
        counts = type(self).count_facets(filterset.qs, everyone=not filterset.narrows, **extra)
        data = {
            name: [{"value": v, "label": label, "count": n} for v, label, n in rows]
            for name, rows in counts.items()
        }
        return Response({"facets": data})


# `GET <list>/places.geojson?<the list's filters>` (routed in detainees.api.urls): the places
# and facilities of the selected records, as GeoJSON points for the map. A comment, not a
# docstring: the schema would take a docstring as every operation's description.
class MapPointsMixin:
    map_points = None  # a function (selection) -> detainees.read.geo.MapSelection

    # No pagination and no CSV: every point of the selection, as one FeatureCollection.
    map_view_options = {"renderer_classes": [GeoJSONRenderer], "pagination_class": None}

    @extend_schema(
        responses={200: s.MapSerializer},
        description=(
            "Where the records the filters select happened: each public place and facility "
            "their public events name, with coordinates, as a GeoJSON Point (longitude, "
            "latitude) with the selection's people and events there; those without "
            "coordinates in `not_on_map`, never placed by guess. Provinces and districts are "
            "points at their own coordinates."
        ),
        filters=True,
    )
    def places(self, request):
        filterset = DjangoFilterBackend().get_filterset(request, self.list_queryset(), self)
        if not filterset.is_valid():
            raise exceptions.ValidationError(filterset.errors)
        return Response(type(self).map_points(filterset.qs).geojson())


class PersonViewSet(MapPointsMixin, FacetCountsMixin, WritableViewSet):
    external_table = "persons"
    serializer_class = s.PersonListSerializer
    # The public site's names for what the API calls otherwise: refused, not silently ignored.
    site_parameters = {"q": "search", "sort": "ordering"}
    redirects_merged = True  # a merged person's old id answers 301 (see `retrieve`)
    count_facets = staticmethod(person_facet_counts)
    map_points = staticmethod(people_points)
    filterset_class = PersonAPIFilterSet
    write_serializer_class = PersonWriteSerializer
    orderings = {**SORTS, **BY_CREATED, **BY_UPDATED}
    default_ordering = "name"
    ordering_help = (
        "Row order: `relevance` (best match to `search` first, ties newest first) is the "
        "default when `search` is given, `name` otherwise (also for `relevance` without "
        "`search`, as on the site); `-` reverses the others."
    )

    @staticmethod
    def searches(request) -> bool:
        # As the filter reads it: a `search` of spaces only searches nothing.
        return bool(request.query_params.get("search", "").strip())

    def ordering_for(self, request) -> str:
        """Best match first when a name is searched, else by name (see `ordering_help`)."""
        return "relevance" if self.searches(request) else self.default_ordering

    def effective_ordering(self, request, ordering: str) -> str:
        """`relevance` without `search` is by name: there is no match to rank."""
        if ordering == "relevance" and not self.searches(request):
            return self.default_ordering
        return ordering

    def detail_queryset(self, *, public=True):
        # The API's person has its batches, not their other members.
        return person_queryset(published_only=public, batch_members=False)

    def list_queryset(self):
        # A page's other names, nationalities and citations are read for its rows as tuples
        # (detainees.api.serializers.PersonRowsSerializer), not prefetched.
        return people_for_listing()

    def staff_list_queryset(self):
        # The stored list holds published people only: the row's columns computed live.
        return annotate_listing(Person.objects.all())

    def get_serializer_class(self):
        if self.action == "retrieve":
            return s.PersonDetailSerializer
        return super().get_serializer_class()

    def retrieve(self, request, *args, **kwargs):
        public = self.public_detail(request, kwargs["id"])
        if public is not None:
            return Response(public)
        try:
            return super().retrieve(request, *args, **kwargs)
        except Http404:
            # A merged person's old id leads to the person it was merged into.
            try:
                old_public_id = uuid.UUID(kwargs["id"])
            except ValueError:
                raise Http404 from None
            survivor = PersonRedirect.objects.public_target(old_public_id=old_public_id)
            if survivor is None:
                raise
            url = reverse("api:person-detail", kwargs={"id": survivor.public_id})
            return HttpResponsePermanentRedirect(request.build_absolute_uri(url))

    def public_detail(self, request, public_id: str) -> dict | None:
        """A published person's JSON read by anyone, built from tuples
        (`detainees.read.person_lines`, equal to the serializer's by test) rather than through
        the serializer's model instances; None for all else (CSV, a signed-in reader who may
        see drafts, an id that is not a published person's), which the serializer answers."""
        if request.accepted_renderer.format != "json" or self.sees_unpublished():
            return None
        try:
            public_id = uuid.UUID(public_id)
        except ValueError:
            return None
        return person_detail(public_id)


def event_queryset(events):
    """`events` with everything their JSON shows."""
    return events.select_related("place", "facility", "from_facility", "batch").prefetch_related(
        Prefetch(
            "people",
            queryset=EventPerson.objects.select_related("person").prefetch_related("person__names"),
        ),
        Prefetch(
            "organizations", queryset=EventOrganization.objects.select_related("organization")
        ),
        citations_prefetch(),
    )


class EventFilterSet(EventFacetFilterSet, UpdatedSinceFilterSet):
    """The events page's facets (year, province, group, force), and more."""

    # One value per event: no DISTINCT (django-filter's default), which costs a sort of every
    # matching row before the first page can be cut.
    kind = django_filters.MultipleChoiceFilter(choices=Event.Kind.choices, distinct=False)
    claim_status = django_filters.MultipleChoiceFilter(
        choices=Event._meta.get_field("claim_status").choices, distinct=False
    )
    date_from = django_filters.DateFilter(
        field_name="date_latest", lookup_expr="gte", label="Possibly on or after"
    )
    date_to = django_filters.DateFilter(
        field_name="date_earliest", lookup_expr="lte", label="Possibly on or before"
    )

    class Meta:
        model = Event
        fields = ["kind", "claim_status", "updated_since"]


class EventViewSet(MapPointsMixin, FacetCountsMixin, WritableViewSet):
    external_table = "events"
    serializer_class = s.EventSerializer
    count_facets = staticmethod(event_facet_counts)
    map_points = staticmethod(event_points)
    write_serializer_class = EventWriteSerializer
    filterset_class = EventFilterSet

    def detail_queryset(self, *, public=True):
        # A detail also answers for a published event that was retracted: its JSON says
        # "claim_status": "retracted", as the person timelines that link it show it marked.
        return event_queryset(Event.objects.published() if public else Event.objects.all())

    def list_queryset(self):
        return event_queryset(Event.objects.public())

    def paginate_queryset(self, queryset):
        # A page's people, organizations and citations are read for its rows as tuples, once
        # it is cut (detainees.api.serializers.EventRowsSerializer), not prefetched: Django's
        # prefetch builds a queryset per row and relation. Other readers of the list's
        # queryset (the JSON Lines export) keep the prefetch.
        return super().paginate_queryset(queryset.prefetch_related(None))


def simple_filterset(model_class, **extra):
    meta = type("Meta", (), {"model": model_class, "fields": list(extra.pop("fields", []))})
    return type(
        f"{model_class.__name__}FilterSet", (UpdatedSinceFilterSet,), {"Meta": meta, **extra}
    )


class OrganizationViewSet(WritableViewSet):
    external_table = "organizations"
    serializer_class = s.OrganizationSerializer
    write_serializer_class = OrganizationWriteSerializer
    filterset_class = simple_filterset(Organization, fields=["kind", "country"])

    def detail_queryset(self, *, public=True):
        organizations = Organization.objects.public() if public else Organization.objects.all()
        return organizations.select_related("parent").prefetch_related("names")

    def list_queryset(self):
        return self.detail_queryset()


class PlaceViewSet(WritableViewSet):
    external_table = "places"
    serializer_class = s.PlaceSerializer
    write_serializer_class = PlaceWriteSerializer
    filterset_class = simple_filterset(Place, fields=["kind", "country"])

    def detail_queryset(self, *, public=True):
        places = Place.objects.public() if public else Place.objects.all()
        return places.select_related("parent")

    def list_queryset(self):
        return self.detail_queryset()


class FacilityViewSet(WritableViewSet):
    external_table = "facilities"
    serializer_class = s.FacilitySerializer
    write_serializer_class = FacilityWriteSerializer
    filterset_class = simple_filterset(Facility, fields=["kind"])

    def detail_queryset(self, *, public=True):
        facilities = Facility.objects.public() if public else Facility.objects.all()
        return with_facility_parts(facilities.select_related("place"))

    def list_queryset(self):
        return self.detail_queryset()


class ReleaseBatchViewSet(WritableViewSet):
    external_table = "release_batches"
    serializer_class = s.ReleaseBatchSerializer
    write_serializer_class = ReleaseBatchWriteSerializer
    filterset_class = simple_filterset(ReleaseBatch)

    def detail_queryset(self, *, public=True):
        batches = ReleaseBatch.objects.public() if public else ReleaseBatch.objects.all()
        return with_batch_parts(batches.select_related("ordered_by", "carried_out_by"))

    def list_queryset(self):
        return self.detail_queryset()


class SourceViewSet(WritableViewSet):
    external_table = "sources"
    serializer_class = s.SourceSerializer
    write_serializer_class = SourceWriteSerializer
    gone_lookup = {"is_confidential": False}
    filterset_class = simple_filterset(Source, fields=["kind", "language", "reference_number"])

    def detail_queryset(self, *, public=True):
        if not public:
            return Source.objects.select_related("publisher")
        return Source.objects.public().select_related("publisher")

    def list_queryset(self):
        return self.detail_queryset()


class AffiliationFilterSet(UpdatedSinceFilterSet):
    person = django_filters.UUIDFilter(field_name="person__public_id", label="The person's id")
    organization = django_filters.UUIDFilter(
        field_name="organization__public_id", label="The organization's id"
    )

    class Meta:
        model = Affiliation
        fields = ["person", "organization", "updated_since"]


class AffiliationViewSet(WritableViewSet):
    """People's ties to organizations. Each has its own publication state; a public one is
    published, not retracted, and between a public person and a public organization."""

    external_table = "affiliations"
    serializer_class = s.AffiliationRecordSerializer
    write_serializer_class = AffiliationWriteSerializer
    filterset_class = AffiliationFilterSet

    def detail_queryset(self, *, public=True):
        affiliations = Affiliation.objects.all()
        if public:
            affiliations = affiliations.filter(Affiliation.public_q())
        return affiliations.select_related("person", "organization", "place").prefetch_related(
            "person__names", citations_prefetch()
        )

    def list_queryset(self):
        return self.detail_queryset()


class RelationshipFilterSet(UpdatedSinceFilterSet):
    class Meta:
        model = Relationship
        fields = ["updated_since"]


class RelationshipViewSet(WritableViewSet):
    """Ties between two people. A relationship has no publication state: it is public when
    both people are and it is not retracted; staff read any one by id."""

    external_table = "relationships"
    serializer_class = s.RelationshipSerializer
    write_serializer_class = RelationshipWriteSerializer
    filterset_class = RelationshipFilterSet
    lists_unpublished = False  # no state to list by: `publication_status` is not a parameter

    def detail_queryset(self, *, public=True):
        ties = Relationship.objects.all()
        if public:
            ties = ties.filter(Relationship.public_q())
        return ties.select_related("person", "other").prefetch_related(
            "person__names", "other__names", citations_prefetch()
        )

    def list_queryset(self):
        return self.detail_queryset()

    def list_statuses(self):
        return None

    def get_object(self):
        # Never withdrawn (it has no state), so a relationship not found is simply 404.
        return super(ReadOnlyViewSet, self).get_object()
