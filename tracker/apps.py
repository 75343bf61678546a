from django.apps import AppConfig


class TrackerConfig(AppConfig):
    """The project's own system checks (tracker/checks.py) and the watch on writes that keeps
    the shared response cache fresh (tracker/response_cache.py); no models."""

    name = "tracker"
    verbose_name = "Tracker"

    def ready(self):
        from tracker import checks  # noqa: F401  (registers the checks)
        from tracker.response_cache import watch_writes

        watch_writes()
