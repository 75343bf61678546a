"""Audit history: every row of every record table, as it was after each change.

django-pghistory generates one history model per tracked model (`PersonHistory`, `CitationHistory`...)
and installs PostgreSQL triggers that copy the row into it on INSERT, UPDATE and DELETE. Being
triggers, they record every path alike: the admin and its bulk actions, the API, importers,
management commands, the shell, queryset `update()` and `delete()`, raw SQL (TRUNCATE, which
skips row triggers, excepted). Who did it and why comes from the context attached to the
database session: the request's user and URL (detainees.write.history.HistoryMiddleware), or the user
and reason given to `detainees.write.history.acting()` by commands and services.

The history tables are append-only (a trigger refuses UPDATE and DELETE on them), so history
cannot be edited from the application.
"""

import pghistory
from django.contrib.auth.models import User

from .editorial import Correction, ReviewComment
from .events import BatchMembership, Event, EventOrganization, EventPerson, ReleaseBatch
from .imports import ExternalId
from .organizations import Organization, OrganizationName
from .people import Affiliation, Nationality, Person, PersonName, PersonRedirect, Relationship
from .places import Facility, FacilityControl, FacilityName, Place
from .sources import Citation, Source

# Every record table. Tombstone is left out: it is itself a log, written only by triggers.
TRACKED_MODELS = (
    Person,
    PersonName,
    PersonRedirect,
    Nationality,
    Affiliation,
    Relationship,
    Event,
    EventPerson,
    EventOrganization,
    ReleaseBatch,
    BatchMembership,
    Organization,
    OrganizationName,
    Place,
    Facility,
    FacilityName,
    FacilityControl,
    Source,
    Citation,
    ExternalId,
    ReviewComment,
    Correction,
)

# Columns not copied into history: `updated` moves on every save (the event's own time says
# when), and search keys are derived from the names the history already holds. Leaving them
# out also means a save that changes nothing else records no event.
NOT_RECORDED = {"updated", "search_key", "search_vector"}


def _trackers():
    # A fresh set per model: pghistory binds each tracker to one event model.
    return (pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())


for _model in TRACKED_MODELS:
    pghistory.track(
        *_trackers(),
        exclude=[f.name for f in _model._meta.local_fields if f.name in NOT_RECORDED],
        model_name=f"{_model.__name__}History",
        # `person.history`, not pghistory's default `person.events`: Event is a model here.
        obj_field=pghistory.ObjForeignKey(related_name="history", related_query_name="history"),
    )(_model)


class TrackedUser(User):
    """The auth user, tracked through this proxy so its triggers' migration is in this app."""

    class Meta:
        proxy = True
        app_label = "detainees"


# Accounts too: who was given staff or superuser rights, who was deactivated, and by whom.
# The password hash and the login time (moved by every login) are not recorded.
pghistory.track(
    *_trackers(),
    exclude=["password", "last_login"],
    model_name="UserHistory",
    obj_field=pghistory.ObjForeignKey(related_name="history", related_query_name="history"),
)(TrackedUser)
