from django.apps import AppConfig


class TrackerConfig(AppConfig):
    """The project's own system checks (tracker/checks.py); no models."""

    name = "tracker"
    verbose_name = "Tracker"

    def ready(self):
        from tracker import checks  # noqa: F401  (registers the checks)
