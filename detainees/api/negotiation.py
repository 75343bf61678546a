"""Content negotiation for the API, in a module of its own: DRF reads this class from its
settings while `rest_framework.views` is being imported, so the module must not import that
(detainees.api.errors does, for its exception handler)."""

from django.http import Http404
from rest_framework import exceptions
from rest_framework.negotiation import DefaultContentNegotiation


class ContentNegotiation(DefaultContentNegotiation):
    """`?format=` with a value no renderer has is a 400 naming `format`, not a 404."""

    def select_renderer(self, request, renderers, format_suffix=None):
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except Http404:
            formats = ", ".join(f"`{r.format}`" for r in renderers)
            raise exceptions.ValidationError(
                {"format": [f"Choose one of: {formats}."]}, code="invalid_choice"
            ) from None
