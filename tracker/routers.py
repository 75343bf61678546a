"""Read replicas: anonymous public reads go to a replica, everything else to the primary.

`DATABASE_REPLICA_URLS` (settings) adds the aliases `replica1`, `replica2`, ... When it is empty
this router sends every query to `default`, so a single server needs nothing.

Which requests may read from a replica is decided per request by `ReplicaMiddleware`: a safe
method (GET, HEAD, OPTIONS) from a client that carries no session cookie and no Authorization
header, outside the admin. Researchers and editors are signed in, so they always read what they
have just written; scripts that write send a token, so they do too. Anything that runs outside
a request (management commands, importers, migrations, the test runner) uses the primary.

Whatever the request, tables that a request can write while serving a read (sessions, users,
tokens, login attempts, history) are read from the primary, and every write goes there.
"""

from __future__ import annotations

import contextlib
import contextvars
import random

from django.conf import settings

_replica_allowed = contextvars.ContextVar("replica_allowed", default=False)

# Apps whose rows are written during otherwise read-only requests, or read right after being
# written by the same person: always the primary.
PRIMARY_ONLY_APPS = frozenset(
    {"admin", "auth", "authtoken", "axes", "contenttypes", "sessions", "pghistory"}
)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def replica_aliases() -> list[str]:
    return [alias for alias in settings.DATABASES if alias.startswith("replica")]


@contextlib.contextmanager
def replica_reads(allowed: bool = True):
    """Let the queries in this block read from a replica (or forbid it, with False)."""
    token = _replica_allowed.set(allowed)
    try:
        yield
    finally:
        _replica_allowed.reset(token)


def may_read_from_replica(request) -> bool:
    """Whether the request is an anonymous public read."""
    if request.method not in SAFE_METHODS:
        return False
    if request.path.startswith("/admin/"):
        return False
    if "HTTP_AUTHORIZATION" in request.META:
        return False
    return settings.SESSION_COOKIE_NAME not in request.COOKIES


class ReplicaMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with replica_reads(may_read_from_replica(request)):
            return self.get_response(request)


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        if model._meta.app_label in PRIMARY_ONLY_APPS or not _replica_allowed.get():
            return "default"
        aliases = replica_aliases()
        return random.choice(aliases) if aliases else "default"

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # every alias holds the same data

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"
