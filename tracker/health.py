"""`/healthz` (the process answers) and `/readyz` (it can serve: database and schema ready).

Both are plain Django views, outside the API, so no rate limit applies to them, and both are
`Cache-Control: no-store`. `/healthz` touches nothing but the process, so a load balancer can
tell a hung or dead worker from a database outage. `/readyz` runs `SELECT 1` on the primary
and, until it has once found none, looks for unapplied migrations (as `migrate --check` does);
once the schema is up to date it stays so for the life of the process, so later checks cost
one round trip.
"""

from __future__ import annotations

import logging

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpResponse, JsonResponse
from django.views.decorators.http import require_safe

from tracker.outage import OUTAGE_ERRORS, RETRY_AFTER_SECONDS, no_store

logger = logging.getLogger("tracker.health")

_schema_ready = False


def unapplied_migrations(alias: str = DEFAULT_DB_ALIAS) -> list[str]:
    executor = MigrationExecutor(connections[alias])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _ in plan]


@require_safe
def healthz(request):
    return no_store(HttpResponse("ok\n", content_type="text/plain; charset=utf-8"))


def _unready(reason: str, **extra) -> JsonResponse:
    response = JsonResponse({"status": "unavailable", "reason": reason, **extra}, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return no_store(response)


@require_safe
def readyz(request):
    global _schema_ready
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT 1")
        if not _schema_ready:
            pending = unapplied_migrations()
            if pending:
                return _unready("unapplied migrations", unapplied=pending)
            _schema_ready = True
    except OUTAGE_ERRORS as exc:
        logger.warning("Not ready: database unreachable: %s", exc)
        return _unready("database unreachable")
    return no_store(JsonResponse({"status": "ready", "database": "ok", "migrations": "applied"}))
