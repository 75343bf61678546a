"""Database outages answer 503 with `Retry-After`, never a 500 and never a cacheable body.

When PostgreSQL cannot be reached (connection refused, lost, or the server shutting down),
Django raises `django.db.OperationalError` or `InterfaceError` wherever the first query of a
request happens: in a view, while a template reads a lazy queryset, in the session or
authentication middleware of a signed-in reader, or in the first chunk of a streamed download
(see `tracker.streaming`). Two hooks catch them all:

- `DatabaseOutageMiddleware.process_exception`, for everything raised by a view (DRF views
  re-raise what they do not handle themselves, so the API is covered too);
- `server_error`, the project's `handler500`, for what a middleware raises outside any view.

Pages get `templates/503.html` (rendered without a request context, so nothing in it can touch
the database); `/api/` gets `{"detail": ...}` as JSON. Both carry `Cache-Control: no-store`, so
no proxy keeps the outage answer after the database is back.
"""

from __future__ import annotations

import logging
import sys

from django.db import InterfaceError, OperationalError, connections
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views import defaults

logger = logging.getLogger("tracker.outage")

# Seconds a client is asked to wait before trying again.
RETRY_AFTER_SECONDS = 30
OUTAGE_ERRORS = (OperationalError, InterfaceError)
API_DETAIL = "The database is unavailable for a moment. Please try again shortly."


def no_store(response):
    response["Cache-Control"] = "no-store"
    return response


def unavailable(request) -> HttpResponse:
    """The 503 for `request`: JSON under /api/, the branded page elsewhere."""
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": API_DETAIL}, status=503)
    else:
        response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return no_store(response)


class DatabaseOutageMiddleware:
    """Turns a lost or refused database connection raised by a view into a 503."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, OUTAGE_ERRORS):
            logger.error("Database unavailable: %s %s: %s", request.method, request.path, exception)
            return unavailable(request)
        return None


def server_error(request, template_name=defaults.ERROR_500_TEMPLATE_NAME):
    """`handler500`: a 503 when the error being handled is a database outage."""
    exception = sys.exc_info()[1]
    if isinstance(exception, OUTAGE_ERRORS):
        logger.error("Database unavailable: %s %s: %s", request.method, request.path, exception)
        return unavailable(request)
    return no_store(defaults.server_error(request, template_name))


def check_database(alias: str = "default") -> None:
    """One round trip to `alias`: raises OperationalError when it is out of reach.

    For a page that would otherwise answer without reading anything (the home page is the
    search box): it says the site is unavailable rather than offer a search that cannot run.
    """
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT 1")
