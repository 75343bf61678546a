"""Rate limits for the anonymous readers the API serves."""

from django.conf import settings
from rest_framework.throttling import AnonRateThrottle


class AnonReadThrottle(AnonRateThrottle):
    """`API_ANON_RATE` requests per client address; 429 with `Retry-After` beyond it.

    The rate is read for each request, not once at import as DRF's `THROTTLE_RATES` is, so a
    changed setting applies at once. Counts live in the default cache: per process with the
    local-memory cache, shared between workers only with a shared cache.
    """

    def get_rate(self):
        return settings.API_ANON_RATE
