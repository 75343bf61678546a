"""`/api/schema/`: the OpenAPI schema (detainees/api/schema.py) generated once per process."""

import threading

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils import translation
from drf_spectacular.views import SpectacularAPIView
from rest_framework.response import Response

_schemas: dict[tuple, dict] = {}
_schemas_lock = threading.Lock()


@receiver(setting_changed)
def _forget_schemas(**kwargs) -> None:
    _schemas.clear()


class SchemaView(SpectacularAPIView):
    """`/api/schema/`: the schema generated once per process and version, not per request.

    It is made from the code alone (the views, serializers, filters and these extensions, never
    the data or the reader), and generating it takes about a second, so each process keeps what
    it generated; only its rendering to YAML or JSON is done per request.
    """

    def _get_schema_response(self, request):
        version = self.api_version or request.version or self._get_version_parameter(request)
        key = (version, self.serve_public, self.urlconf, translation.get_language())
        schema = _schemas.get(key)
        if schema is None:
            with _schemas_lock:
                schema = _schemas.get(key)
                if schema is None:
                    generator = self.generator_class(
                        urlconf=self.urlconf, api_version=version, patterns=self.patterns
                    )
                    schema = generator.get_schema(request=request, public=self.serve_public)
                    _schemas[key] = schema
        filename = self._get_filename(request, version)
        return Response(
            data=schema, headers={"Content-Disposition": f'inline; filename="{filename}"'}
        )
