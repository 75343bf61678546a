"""The floor under every query-string parameter: a 400 before any view reads one.

The bounds and the checks are detainees/read/bounds.py, which the FilterSets and pages use for
their own, tighter bounds; this middleware holds every value to them, so a parameter no field
reads, or a page that forgets one, still never sees more than MAX_VALUE_LENGTH characters.
"""

from django.http import JsonResponse

from detainees.read.bounds import first_overlong
from detainees.web.badrequest import bad_request


class ParameterBoundsMiddleware:
    """400 for any query-string value over its bound, naming the parameter and the limit: JSON
    `{"param": ["message"]}` under /api/, the site's 400 page elsewhere."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        found = first_overlong(request.GET)
        if found is None:
            return self.get_response(request)
        name, message = found
        if request.path.startswith("/api/"):
            return JsonResponse({name: [message]}, status=400)
        return bad_request(request, {name: [message]})
