"""Who changed what, and why: attaching the actor to changes, and reading a record's history.

The triggers of detainees/domain/models/history.py record every change to every record table. What
they cannot know is who made it: that comes from a context set on the database connection.

- Web requests get it from `HistoryMiddleware` (the logged-in user and the URL).
- Everything else that writes (management commands, importers, merges, scripts) wraps its
  writes in `acting()`:

      from detainees.write.history import acting

      with acting(user, "import ISAF press releases 2011", source_file="isaf.csv"):
          import_rows(rows)

  `user` may be None when no account stands behind the change (a cron job); `reason` is
  always given, and any further keyword becomes part of the recorded context.

Changes made outside both are still recorded, with no user ("no user recorded" in the admin).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

import pghistory
import pghistory.middleware
from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import models

# At most this many changes are shown on one record's history page, newest first.
HISTORY_LIMIT = 300


@contextlib.contextmanager
def acting(user, reason: str, **extra) -> Iterator[None]:
    """Record every change made inside the block as made by `user`, for `reason`.

    `user` is a User or None. Nested inside a request or another `acting()`, the values are
    added to the context already open, so all of its changes share them.
    """
    metadata = {"reason": reason, **extra}
    if user is not None:
        metadata["user"] = user.pk
        metadata["username"] = user.get_username()
    with pghistory.context(**metadata):
        yield


class HistoryMiddleware(pghistory.middleware.HistoryMiddleware):
    """pghistory's middleware, also keeping the username, which outlives a deleted account."""

    def get_context(self, request):
        context = super().get_context(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            context["username"] = user.get_username()
        return context


# --- Reading a record's history (the admin's History page) -----------------------------------


@dataclass
class FieldChange:
    label: str
    before: str
    after: str


@dataclass
class Change:
    at: datetime
    action: str  # "created", "changed", "deleted"
    what: str  # "Person", "Name: Qari Bilal"
    who: str
    reason: str
    url: str
    fields: list[FieldChange] = field(default_factory=list)


LABELS = {"insert": "created", "update": "changed", "delete": "deleted"}
# Columns shown in a diff: what a researcher typed. Derived columns (slugs, date bounds, public
# ids, timestamps) follow from those and would only repeat them.
HIDDEN = {"id", "public_id", "created", "updated", "slug"}


def shown_fields(model) -> dict[str, models.Field]:
    return {
        f.attname: f
        for f in model._meta.concrete_fields
        if (f.editable or f.name == "status") and f.name not in HIDDEN
    }


def history_of(obj, *, limit: int = HISTORY_LIMIT) -> list[Change]:
    """Changes to `obj` and to the rows that point at it (its names, citations...), newest first.

    Costs one query over every history table that can refer to `obj`'s model, one for the
    users named, and one per kind of linked record the changes name.
    """
    events = list(
        pghistory.models.Events.objects.references(obj).order_by("-pgh_created_at", "-pgh_id")[
            :limit
        ]
    )
    values = Values()
    for event in events:
        model = apps.get_model(event.pgh_obj_model)
        for name, f in shown_fields(model).items():
            if f.is_relation and event.pgh_data.get(name) is not None:
                values.want(f.related_model, event.pgh_data[name])
                if event.pgh_diff and name in event.pgh_diff:
                    values.want(f.related_model, event.pgh_diff[name][0])
    values.fetch()
    users = user_names(e.pgh_context for e in events)
    return [describe(event, obj, values, users) for event in events]


def user_names(contexts) -> dict:
    ids = {c.get("user") for c in contexts if c and c.get("user") is not None}
    User = get_user_model()
    return {u.pk: u.get_username() for u in User.objects.filter(pk__in=ids)}


class Values:
    """Turns stored foreign keys into names, fetching each model's rows in one query."""

    def __init__(self):
        self.wanted: dict[type, set] = {}
        self.found: dict[type, dict] = {}

    def want(self, model, pk):
        if pk is not None:
            self.wanted.setdefault(model, set()).add(pk)

    def fetch(self):
        for model, pks in self.wanted.items():
            self.found[model] = {o.pk: str(o) for o in model._base_manager.filter(pk__in=pks)}

    def show(self, f: models.Field, value) -> str:
        if value is None or value == "":
            return "—"
        if f.is_relation:
            return self.found.get(f.related_model, {}).get(value, f"#{value} (deleted)")
        if f.choices:
            return str(dict(f.flatchoices).get(value, value))
        if isinstance(value, bool):
            return "yes" if value else "no"
        return str(value)


def describe(event, obj, values: Values, users: dict) -> Change:
    model = apps.get_model(event.pgh_obj_model)
    data = event.pgh_data or {}
    fields = shown_fields(model)
    if event.pgh_label == "update":
        diff = event.pgh_diff or {}
        changes = [
            FieldChange(str(f.verbose_name), values.show(f, diff[n][0]), values.show(f, diff[n][1]))
            for n, f in fields.items()
            if n in diff
        ]
    elif event.pgh_label == "insert":
        changes = [
            FieldChange(str(f.verbose_name), "", values.show(f, data.get(n)))
            for n, f in fields.items()
            if data.get(n) not in (None, "")
        ]
    else:
        changes = []
    if model is type(obj) and str(event.pgh_obj_id) == str(obj.pk):
        what = str(model._meta.verbose_name).capitalize()
    else:
        what = f"{str(model._meta.verbose_name).capitalize()}: {row_label(model, data, values)}"
    context = event.pgh_context or {}
    return Change(
        at=event.pgh_created_at,
        action=LABELS.get(event.pgh_label, event.pgh_label),
        what=what,
        who=who(context, users),
        reason=context.get("reason", ""),
        url=context.get("url", ""),
        fields=changes,
    )


def row_label(model, data: dict, values: Values) -> str:
    """A linked row named as it was at the time, without loading it: deleted rows too."""
    for name in ("name", "title", "country", "role", "aspect"):
        if data.get(name):
            return str(data[name])
    for name, f in shown_fields(model).items():
        if f.is_relation and f.name != "person" and data.get(name) is not None:
            return values.show(f, data[name])
    return f"#{data.get('id')}"


def who(context: dict, users: dict) -> str:
    if context.get("user") is not None:
        return users.get(context["user"]) or context.get("username") or f"user #{context['user']}"
    if context.get("username"):
        return context["username"]
    return "no user recorded"
