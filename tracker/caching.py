"""Cache headers on anonymous public reads, so a CDN or proxy in front can serve them.

A response to an anonymous GET or HEAD (no session cookie, no Authorization header, outside the
admin) that is a 200, 301, 304 or 410 and sets no cookie is marked `public` for
`PUBLIC_CACHE_SECONDS`. Everything else is marked `private, no-store`, unless the view chose
its own Cache-Control. Drafts answer 404, which is never cached, so a record that is published
appears as soon as it is.
"""

from django.conf import settings
from django.utils.cache import patch_cache_control

from tracker.routers import may_read_from_replica

CACHEABLE_STATUSES = frozenset({200, 301, 304, 410})


class PublicCacheHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.has_header("Cache-Control"):
            return response
        if (
            may_read_from_replica(request)
            and response.status_code in CACHEABLE_STATUSES
            and not response.cookies
        ):
            patch_cache_control(response, public=True, max_age=settings.PUBLIC_CACHE_SECONDS)
        else:
            patch_cache_control(response, private=True, no_store=True)
        return response
