"""One error shape for the whole API.

Every 400 names what is wrong: `{"<field or parameter>": ["message", ...]}`, with problems of the
body as a whole (JSON that does not parse, a list where an object was expected) under
`non_field_errors`. Every other error is `{"detail": "message"}` (a 410 adds `reason`). Errors are
JSON even when CSV was asked for, so that a script reading CSV sees a non-2xx status and a body a
person can read, never a table that looks like data.
"""

from django.http import HttpResponsePermanentRedirect, JsonResponse
from django.urls import Resolver404, resolve
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions
from rest_framework.renderers import JSONRenderer
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc, context):
    if isinstance(exc, exceptions.ParseError) and exc.status_code == 400:
        # A body that cannot be read is a problem of the body as a whole.
        exc = exceptions.ValidationError(
            {api_settings.NON_FIELD_ERRORS_KEY: [str(exc.detail)]}, code=exc.default_code
        )
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if response.status_code == 400 and not isinstance(data, dict):
        response.data = {api_settings.NON_FIELD_ERRORS_KEY: list(data) if data else []}
    elif response.status_code != 400 and not (isinstance(data, dict) and "detail" in data):
        response.data = {"detail": str(data)}
    # An error is JSON, whatever format was asked for (see the module's docstring).
    request = context.get("request")
    if request is not None:
        request.accepted_renderer = JSONRenderer()
        request.accepted_media_type = JSONRenderer.media_type
    return response


@csrf_exempt
def not_found(request, rest=""):
    """Any API URL no route matches: a JSON 404, never the site's HTML page or a redirect.

    A URL missing its trailing slash is named in the answer. Only safe methods are redirected by
    the site (APPEND_SLASH); a write sent to such a URL would lose its body and method on the
    way, so it is refused here instead.
    """
    path = request.path
    if not path.endswith("/"):
        try:
            resolve(path + "/")
        except Resolver404:
            pass
        else:
            if request.method in ("GET", "HEAD"):
                query = request.META.get("QUERY_STRING", "")
                return HttpResponsePermanentRedirect(path + "/" + (f"?{query}" if query else ""))
            return JsonResponse(
                {"detail": f"Not found. The URL ends with a slash: {path}/"}, status=404
            )
    return JsonResponse({"detail": "Not found."}, status=404)


PAGING_PARAMETERS = ("ordering", "cursor", "page_size")


class RefuseEmptyParameters:
    """A documented parameter sent with no value (`?kind=`) is a 400 naming it.

    The schema gives each parameter a type or a list of codes, and "" is none of them; to leave
    a filter out, leave the parameter out. Parameters the API does not know are ignored.
    """

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        known = {api_settings.URL_FORMAT_OVERRIDE}
        filterset_class = getattr(self, "filterset_class", None)
        if self.action in ("list", "facets", "places"):
            if self.action != "places":  # the map's points come whole, unpaged
                known.update(PAGING_PARAMETERS)
            if filterset_class is not None:
                model = filterset_class._meta.model
                known.update(filterset_class(queryset=model.objects.none()).filters)
        empty = {
            name: ["Give a value, or leave the parameter out."]
            for name in known
            if name in request.query_params and "" in request.query_params.getlist(name)
        }
        if empty:
            raise exceptions.ValidationError(empty)
