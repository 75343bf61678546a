"""Deploy checks for settings that Django's own `check --deploy` does not know about."""

from django.conf import settings
from django.core.checks import Tags, Warning, register

PER_PROCESS_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
}


@register(Tags.security, Tags.caches, deploy=True)
def check_shared_cache(app_configs, **kwargs):
    """Several gunicorn workers each with their own cache each count their own API requests."""
    backend = settings.CACHES["default"]["BACKEND"]
    if settings.DEBUG or backend not in PER_PROCESS_CACHES:
        return []
    return [
        Warning(
            "No shared cache: CACHE_URL is not set, so each worker process keeps its own "
            "API throttle counts and a client gets the limit once per worker.",
            hint="Set CACHE_URL to a Redis server, e.g. redis://127.0.0.1:6379/0.",
            id="tracker.W001",
        )
    ]
