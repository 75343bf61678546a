"""The researchers' admin: every record, with its facts and their citations on one page."""

from detainees.admin import events, imports, organizations, people, places, sources  # noqa: F401
