"""Rate limits for the anonymous readers the API serves."""

import logging

from django.conf import settings
from django.utils.module_loading import import_string
from redis.exceptions import RedisError
from rest_framework.throttling import AnonRateThrottle

logger = logging.getLogger(__name__)


class AnonReadThrottle(AnonRateThrottle):
    """`API_ANON_RATE` requests per client address; 429 with `Retry-After` beyond it.

    The rate is read for each request, not once at import as DRF's `THROTTLE_RATES` is, so a
    changed setting applies at once. Counts live in the default cache: per process with the
    local-memory cache, shared between workers and hosts with CACHE_URL (Redis).
    """

    def get_rate(self):
        return settings.API_ANON_RATE

    def get_ident(self, request):
        # The address the login lockout uses too (tracker/client_ip.py, which knows the
        # TRUSTED_PROXIES), not DRF's NUM_PROXIES.
        return import_string(settings.CLIENT_IP_CALLABLE)(request) or "unknown"

    def allow_request(self, request, view):
        # A Redis outage lifts the rate limit rather than failing every API read: the data is
        # public, and the error is logged for the operator.
        try:
            return super().allow_request(request, view)
        except RedisError as exc:
            logger.error("API rate limit not applied: the cache (CACHE_URL) failed: %s", exc)
            return True
