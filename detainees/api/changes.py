"""The changes feed: published records that were withdrawn or deleted, for scripts keeping a mirror.

Keeping a mirror up to date, from the time `T` the previous run started (less a few minutes:
a change is only visible once its transaction commits, and applying one twice is harmless):

1. page through `/api/v1/changes/?since=T` and drop each listed record from the mirror;
2. page through every list with `?updated_since=T` and store each row, replacing the old one.

In that order, a record withdrawn and then published again ends up in the mirror: publishing
moves its `updated` time, so step 2 brings it back. The first run is a full pull of each list
(or `/api/v1/export.jsonl`).
"""

import django_filters
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import mixins, serializers, viewsets

from detainees.api.errors import RefuseEmptyParameters
from detainees.api.pagination import KeysetPagination
from detainees.api.renderers import CSVRenderer, JSONRenderer
from detainees.domain.models import Tombstone
from detainees.read.filters import UpdatedSinceFilter


class TombstoneSerializer(serializers.ModelSerializer):
    type = serializers.ChoiceField(
        source="record_type",
        choices=Tombstone.RecordType.choices,
        help_text="What the record was: `batch` is a release batch.",
    )
    id = serializers.UUIDField(source="public_id", help_text="The record's public id.")
    change = serializers.ChoiceField(
        choices=Tombstone.Change.choices,
        help_text="`withdrawn`: no longer published (it may come back); `deleted`: gone for good.",
    )
    reason = serializers.CharField(
        help_text="The public reason given for withdrawing it; empty for other changes."
    )
    at = serializers.DateTimeField(help_text="When it left the public record.")

    class Meta:
        model = Tombstone
        fields = ("type", "id", "change", "reason", "at")


class ChangeFilterSet(django_filters.FilterSet):
    since = UpdatedSinceFilter(
        field_name="at", lookup_expr="gte", label="Withdrawn or deleted at or after (ISO 8601)"
    )
    type = django_filters.MultipleChoiceFilter(
        field_name="record_type",
        choices=Tombstone.RecordType.choices,
        label="Only these record types; repeat the parameter for several",
    )

    class Meta:
        model = Tombstone
        fields = ["since", "type"]


class ChangeViewSet(RefuseEmptyParameters, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Records that left the public record since `since`, oldest first.

    A record is listed when it was published and then moved to another status (`withdrawn`) or
    deleted (`deleted`); drafts never appear. Remove listed records from a mirror first, then
    apply each list's `updated_since=` rows: a record published again is in those.
    """

    serializer_class = TombstoneSerializer
    filterset_class = ChangeFilterSet
    filter_backends = [DjangoFilterBackend]
    pagination_class = KeysetPagination
    renderer_classes = [JSONRenderer, CSVRenderer]
    # Keyset pages on (at, id): `at` never changes once written, and the index covers both.
    orderings = {"at": ("at", False)}
    default_ordering = "at"

    def get_queryset(self):
        return Tombstone.objects.all()

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        data = getattr(response, "data", None)
        if isinstance(data, dict) and data.get("next"):
            response["Link"] = f'<{data["next"]}>; rel="next"'
        return response
