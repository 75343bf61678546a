"""Query-string values no view can use are refused before any view sees them.

PostgreSQL text cannot hold a NUL character, and a value the browser sent in another encoding
than UTF-8 arrives with replacement characters; neither can match anything stored, and NUL would
make the database refuse the query. Such a parameter is answered 400 naming it: JSON in the API's
error shape under /api/, plain text elsewhere.
"""

from django.http import HttpResponseBadRequest, JsonResponse

_NUL = "\x00"


def _problem(name: str, value: str) -> str | None:
    if _NUL in name or _NUL in value:
        return "must not contain a NUL character"
    if "\ufffd" in name or "\ufffd" in value:
        return "must be UTF-8 text"
    return None


class QueryStringMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        for name, values in request.GET.lists():
            for value in values:
                problem = _problem(name, value)
                if problem:
                    shown = name.replace(_NUL, "\\x00")
                    if request.path.startswith("/api/"):
                        return JsonResponse({shown: [f"This parameter {problem}."]}, status=400)
                    return HttpResponseBadRequest(
                        f"The parameter {shown!r} {problem}.", content_type="text/plain"
                    )
        return self.get_response(request)
