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

A replica that is down or behind is left out, so readers get no error from it and no data older
than the limit:

- Each process checks each replica at most every `DATABASE_REPLICA_CHECK_SECONDS`, on a
  connection of its own (`ReplicaHealth`), in whichever request comes first once the last check
  is that old; other requests meanwhile go by the last result. A replica that cannot be reached
  (refused, or no answer within its `connect_timeout`, 2 s unless its URL says otherwise), or
  whose replay is more than `DATABASE_REPLICA_MAX_LAG_SECONDS` behind, gets no reads until a
  later check finds it well; while no replica is usable, the primary serves every read.
- The lag is 0 when the replica has replayed all the WAL it has received and its WAL receiver is
  streaming, or replays what it had received within 50 ms: an idle primary writes no
  transactions (only checkpoints and vacuum now and then), so the time since the last replayed
  one says nothing then. Otherwise it is the time since that transaction committed on the
  primary (an over-estimate after a quiet spell, which errs towards the primary).
- A replica that fails during a request (it stops, or the connection is cut: OperationalError or
  InterfaceError from a request that read from a replica) is checked again at once, and the
  whole request is run again on the primary, once. Only safe, anonymous requests read from a
  replica, so running one twice writes nothing. A streamed download whose first chunk has been
  sent cannot be taken back: it ends incomplete, as on any database failure (tracker/streaming).
- Each change is logged (logger `tracker.replicas`, WARNING): a replica taken out and why, and
  its return.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import random
import threading
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.db import InterfaceError, OperationalError, connections
from django.http import HttpResponse

logger = logging.getLogger("tracker.replicas")

# Apps whose rows are written during otherwise read-only requests, or read right after being
# written by the same person: always the primary.
PRIMARY_ONLY_APPS = frozenset(
    {"admin", "auth", "authtoken", "axes", "contenttypes", "sessions", "pghistory"}
)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# What a replica that stopped or lost its connection raises.
REPLICA_FAILURES = (OperationalError, InterfaceError)
# Longest a health check's query may run on a replica that answers but hangs.
CHECK_STATEMENT_TIMEOUT_MS = 2000

# Where the replica stands: whether it is a replica at all, whether its WAL receiver runs,
# whether it has replayed all it has received, what it has received, and the age of the last
# transaction it replayed (NULL if none since it started).
STANDING_SQL = """
SELECT pg_is_in_recovery(),
    EXISTS (SELECT FROM pg_stat_wal_receiver),
    pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn(),
    pg_last_wal_receive_lsn()::text,
    greatest(0, extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp()))::float8
"""
# Whether replay has reached a position received a moment ago.
REACHED_SQL = "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn"
# How long a replica with WAL still to replay is given to replay it before its lag is taken to
# be the age of its last replayed transaction.
KEEPING_UP_SECONDS = 0.05


@dataclass
class _Reads:
    """What the current request may do: read from a replica, and which ones it read from."""

    allowed: bool
    used: set[str] = field(default_factory=set)


# None: outside ReplicaMiddleware and replica_reads(), where every read goes to the primary.
_reads: contextvars.ContextVar[_Reads | None] = contextvars.ContextVar(
    "replica_reads", default=None
)


def replica_aliases() -> list[str]:
    return [alias for alias in settings.DATABASES if alias.startswith("replica")]


@contextlib.contextmanager
def replica_reads(allowed: bool = True):
    """Let the queries in this block read from a replica (or forbid it, with False)."""
    state = _Reads(allowed)
    token = _reads.set(state)
    try:
        yield state
    finally:
        _reads.reset(token)


def may_read_from_replica(request) -> bool:
    """Whether the request is an anonymous public read."""
    if request.method not in SAFE_METHODS:
        return False
    if request.path.startswith("/admin/"):
        return False
    if "HTTP_AUTHORIZATION" in request.META:
        return False
    return settings.SESSION_COOKIE_NAME not in request.COOKIES


# Health of the replicas ----------------------------------------------------------------------


class ReplicaLagUnknown(Exception):
    """The replica cannot say how far behind it is."""


def probe(connection, sleep=time.sleep) -> float:
    """The replica's lag in seconds, on `connection` (a database wrapper of its own).

    0 when it has replayed all it has received, or does within KEEPING_UP_SECONDS: a primary
    that writes no transactions (idle, or only checkpoints and vacuum) still sends WAL now and
    then, and the age of the last replayed transaction says nothing then. Otherwise that age."""
    with connection.cursor() as cursor:
        cursor.execute(STANDING_SQL)
        in_recovery, streaming, caught_up, received, age = cursor.fetchone()
        if not in_recovery:
            return 0.0
        if streaming and caught_up:
            return 0.0
        if streaming and received is not None:
            sleep(KEEPING_UP_SECONDS)
            cursor.execute(REACHED_SQL, [received])
            if cursor.fetchone()[0]:
                return 0.0
    if age is None:
        raise ReplicaLagUnknown("nothing replayed since it started, and WAL is waiting")
    return float(age)


@dataclass(frozen=True)
class Health:
    usable: bool
    checked: float  # time.monotonic() of the check
    reason: str = ""
    lag: float | None = None


class ReplicaHealth:
    """Whether each replica may serve reads, as last checked by this process."""

    def __init__(self, probe=probe, clock=time.monotonic):
        self.probe = probe
        self.clock = clock
        self._health: dict[str, Health] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._connections: dict = {}
        self._guard = threading.Lock()

    def usable(self, aliases: list[str]) -> list[str]:
        """The replicas among `aliases` that may serve reads, checking those whose turn it is."""
        now = self.clock()
        interval = settings.DATABASE_REPLICA_CHECK_SECONDS
        usable = []
        for alias in aliases:
            health = self._health.get(alias)
            if health is None or now - health.checked >= interval:
                # One request checks; the others go by the last result meanwhile.
                health = self.check(alias, wait=False) or health
            if health is not None and health.usable:
                usable.append(alias)
        return usable

    def failed(self, aliases, exception: Exception) -> None:
        """A request reading from `aliases` met `exception`: check them again now."""
        started = self.clock()
        for alias in aliases:
            health = self.check(alias, wait=True, unless_checked_since=started)
            if health is not None and not health.usable:
                continue
            logger.info("Replica %s still answers after a failed read: %s", alias, exception)

    def check(self, alias: str, wait: bool, unless_checked_since: float | None = None):
        """Check `alias` now and return the result; None if another thread is checking it and
        `wait` is False. With `unless_checked_since`, a check finished after that moment (by
        another thread, while this one waited) stands."""
        with self._guard:
            lock = self._locks.setdefault(alias, threading.Lock())
        if not lock.acquire(blocking=wait):
            return None
        try:
            previous = self._health.get(alias)
            if (
                unless_checked_since is not None
                and previous is not None
                and previous.checked > unless_checked_since
            ):
                return previous
            health = self._check(alias)
            self._health[alias] = health
            self._log_change(alias, previous, health)
            return health
        finally:
            lock.release()

    def _check(self, alias: str) -> Health:
        max_lag = settings.DATABASE_REPLICA_MAX_LAG_SECONDS
        try:
            lag = self.probe(self._connection(alias))
        except Exception as exc:  # DatabaseError, ReplicaLagUnknown, or anything: never a 500
            self._drop_connection(alias)
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            reason = f"{type(exc).__name__}: {first_line}" if first_line else type(exc).__name__
            return Health(False, self.clock(), f"unreachable or unready ({reason})")
        if lag > max_lag:
            return Health(False, self.clock(), f"{lag:.1f} s behind (limit {max_lag:g} s)", lag=lag)
        return Health(True, self.clock(), lag=lag)

    def _connection(self, alias: str):
        """This process's own connection to `alias` for checks (never a request's)."""
        connection = self._connections.get(alias)
        if connection is None:
            source = connections[alias]
            params = dict(source.settings_dict)
            options = dict(params.get("OPTIONS") or {})
            limit = f"-c statement_timeout={CHECK_STATEMENT_TIMEOUT_MS}"
            options["options"] = (
                f"{options['options']} {limit}" if options.get("options") else limit
            )
            params["OPTIONS"] = options
            connection = type(source)(params, alias)
            connection.inc_thread_sharing()  # used by whichever thread holds the alias's lock
            self._connections[alias] = connection
        return connection

    def _drop_connection(self, alias: str) -> None:
        connection = self._connections.pop(alias, None)
        if connection is not None:
            with contextlib.suppress(Exception):
                connection.close()

    def _log_change(self, alias: str, previous: Health | None, health: Health) -> None:
        was_usable = previous.usable if previous is not None else None
        if health.usable and was_usable is False:
            logger.warning("Replica %s is back: anonymous reads go to it again.", alias)
        elif not health.usable and was_usable is not False:
            logger.warning(
                "Replica %s taken out: %s; its reads go to the primary until it recovers.",
                alias,
                health.reason,
            )

    def get(self, alias: str) -> Health | None:
        return self._health.get(alias)

    def reset(self) -> None:
        """Forget every result and close the checks' connections (tests, settings changes)."""
        for alias in list(self._connections):
            self._drop_connection(alias)
        self._health.clear()


health = ReplicaHealth()


# The middleware and the router ---------------------------------------------------------------


class ReplicaMiddleware:
    """Anonymous public reads may go to a replica; one that fails mid-request is retried on the
    primary (see the module's docstring)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not may_read_from_replica(request):
            with replica_reads(False):
                return self.get_response(request)
        with replica_reads(True):
            response = self.get_response(request)
        if getattr(request, "_replica_failed", None) is None:
            return response
        # The placeholder holds nothing to release; closing it would signal request_finished,
        # which closes the database connections mid-request.
        with replica_reads(False):
            return self.get_response(request)

    def process_exception(self, request, exception):
        """Runs before the outage middleware's: a replica's failure is not an outage."""
        state = _reads.get()
        if not (
            state is not None
            and state.allowed
            and state.used
            and isinstance(exception, REPLICA_FAILURES)
        ):
            return None
        used = sorted(state.used)
        logger.warning(
            "Replica read failed, %s %s run again on the primary: %s",
            request.method,
            request.path,
            exception,
        )
        health.failed(used, exception)
        request._replica_failed = used
        # Replaced by the primary's answer in __call__; never sent.
        placeholder = HttpResponse(status=503)
        placeholder["Cache-Control"] = "no-store"
        return placeholder


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        state = _reads.get()
        if state is None or not state.allowed or model._meta.app_label in PRIMARY_ONLY_APPS:
            return "default"
        aliases = replica_aliases()
        if not aliases:
            return "default"
        usable = health.usable(aliases)
        if not usable:
            return "default"
        alias = random.choice(usable)
        state.used.add(alias)
        return alias

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # every alias holds the same data

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"
