"""Keyset pagination for the API: the same cursor as the HTML list, an allow-list of orderings."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from detainees.read.pagination import BadCursor, keyset_page

DEFAULT_SIZE = 50
MAX_SIZE = 500


def default_ordering(view, request) -> str:
    """The ordering of a list whose request names none: the view's `ordering_for(request)`
    where it has one (the people list's depends on `search`), else its `default_ordering`."""
    ordering_for = getattr(view, "ordering_for", None)
    return ordering_for(request) if ordering_for else view.default_ordering


class KeysetPagination(BasePagination):
    """`?ordering=` from the view's `orderings`, `?cursor=` from `next`, `?page_size=` up to 500."""

    cursor_query_param = "cursor"

    def paginate_queryset(self, queryset, request, view=None):
        orderings = view.orderings
        ordering = request.query_params.get("ordering") or default_ordering(view, request)
        if ordering not in orderings:
            raise ValidationError({"ordering": [f"Choose one of: {', '.join(sorted(orderings))}."]})
        if hasattr(view, "effective_ordering"):
            ordering = view.effective_ordering(request, ordering)
        field, descending = orderings[ordering]
        try:
            size = int(request.query_params.get("page_size", DEFAULT_SIZE))
        except ValueError as exc:
            raise ValidationError({"page_size": ["A whole number from 1 to 500."]}) from exc
        if not 1 <= size <= MAX_SIZE:
            raise ValidationError({"page_size": ["A whole number from 1 to 500."]})
        try:
            page = keyset_page(
                queryset,
                field=field,
                descending=descending,
                after=request.query_params.get(self.cursor_query_param),
                size=size,
            )
        except (BadCursor, DjangoValidationError, TypeError) as exc:
            raise ValidationError({"cursor": ["Invalid cursor: start again without it."]}) from exc
        self.request = request
        self.page = page
        return page.rows

    def get_next_link(self):
        if not self.page.next_cursor:
            return None
        url = self.request.build_absolute_uri()
        return replace_query_param(url, self.cursor_query_param, self.page.next_cursor)

    def get_paginated_response(self, data):
        return Response({"next": self.get_next_link(), "results": data})

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": "ordering",
                "in": "query",
                "required": False,
                "description": getattr(
                    view,
                    "ordering_help",
                    f"Row order (default `{view.default_ordering}`); `-` reverses it.",
                ),
                "schema": {"type": "string", "enum": sorted(view.orderings)},
            },
            {
                "name": self.cursor_query_param,
                "in": "query",
                "required": False,
                "description": "Where the page starts: taken from the previous page's `next`.",
                "schema": {"type": "string"},
            },
            {
                "name": "page_size",
                "in": "query",
                "required": False,
                "description": f"Rows per page, 1 to {MAX_SIZE} (default {DEFAULT_SIZE}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_SIZE},
            },
        ]

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["next", "results"],
            "properties": {
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "results": schema,
            },
        }
