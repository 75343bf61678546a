"""A shared cache of whole responses to anonymous public reads, emptied by any committed write.

`PublicResponseCacheMiddleware` keeps the response to an anonymous GET of a public page or API
read in the default cache (Redis with CACHE_URL, shared by every gunicorn worker; one per process
otherwise) for `PUBLIC_RESPONSE_CACHE_SECONDS`, and answers the next such GET or HEAD of the same
URL with the stored bytes and headers, without touching the database.

What is stored: a 200, 301 or 410 (the statuses tracker/caching.py marks `public` for a CDN) to
an anonymous GET (tracker.routers.may_read_from_replica: no session cookie, no Authorization,
not the admin) that carries no cookie but the CSRF one, whose response sets no cookie, is not
streamed (the CSV and JSON Lines downloads, the data package), did not put a CSRF token in its
body, does not vary on Cookie, and was marked `Cache-Control: public`. A 404 is not stored: it
is as cheap to answer again as to look up, and storing every unknown URL would let anyone fill
the cache. Conditional requests (If-None-Match, If-Modified-Since) go to the view, which answers
304 itself; their 200s are stored like any other.

The key holds the scheme, host, path and query string as sent, and the request headers a
response may vary on (Accept, for the API's negotiation; Accept-Encoding; Accept-Language; and
Cookie, which the API's session authentication adds to every response and which a served request
holds none of but the CSRF cookie); a response that varies on any other header is not stored.

Invalidation is one counter, the public generation, kept in the same cache. Every entry records
the generation it was made in and is served only while the counter still holds it, so bumping
the counter empties the whole cache at once. The counter is bumped after the commit of any
transaction that wrote to a table other than the few no public read shows (sessions, logins,
tokens, the job queue): the write is seen where every write goes, in the database connection's
execute wrapper, so the write path, the importers, the bulk API, admin actions and raw SQL all
count, whatever they change. Only psycopg's `cursor.copy()` passes beside the wrapper; its one
user, the synthetic loader, also empties and rebuilds tables through it in the same transaction.
Other such code must call `bump_public_generation` on commit. A write that is rolled back bumps
nothing; a connection with a write not yet committed neither reads nor fills the cache, so a
request inside that transaction sees its own change. Writes made outside the application (psql)
are not seen: `PUBLIC_RESPONSE_CACHE_SECONDS` bounds how long they can go unseen.

A cache that fails (Redis down) makes every read a miss, logged, never an error.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.core.signals import setting_changed
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.backends.signals import connection_created
from django.dispatch import receiver
from django.http import HttpResponse
from django.utils.cache import cc_delim_re

from tracker.routers import may_read_from_replica

logger = logging.getLogger(__name__)

GENERATION_KEY = "public-generation"
ENTRY_PREFIX = "public-response:"
STORED_STATUSES = frozenset({200, 301, 410})
# Request headers a stored response may vary on; each is part of the key.
KEYED_HEADERS = ("HTTP_ACCEPT", "HTTP_ACCEPT_ENCODING", "HTTP_ACCEPT_LANGUAGE", "HTTP_COOKIE")
KEYED_VARY = frozenset({"accept", "accept-encoding", "accept-language", "cookie"})
CONDITIONAL_HEADERS = ("HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE")

# Tables whose rows no public read shows: writing them leaves every public response as it was.
# Everything else counts, including tables added later. The stored figures and stored facet
# counts are among them: a reader stores them (detainees/read/figures.py, filters.py) from tables
# whose own writes already moved the generation, so storing them changes no answer; counting
# them would make every such read empty the whole cache.
PRIVATE_TABLE = re.compile(
    r'"?(django_session|django_admin_log|auth_|authtoken_|axes_|procrastinate_'
    r"|detainees_figures_stored\b|detainees_facet_counts_stored\b)",
    re.IGNORECASE,
)
# A write statement, at the start of the SQL or after a `;`: django-pghistory puts its own
# `SELECT set_config(...);` in front of the writes of a request it tracks.
WRITE = re.compile(
    r"(?:^|;)\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM|TRUNCATE(?:\s+TABLE)?|COPY|MERGE\s+INTO)\s+"
    r"(?:ONLY\s+)?([^\s(;]+)",
    re.IGNORECASE,
)
OTHER_WRITE = re.compile(
    r"(?:^|;)\s*(?:REFRESH|WITH\b[^;]*\b(?:INSERT|UPDATE|DELETE)\b)", re.IGNORECASE
)


# The generation counter ------------------------------------------------------------------------


def bump_public_generation() -> None:
    """Make every stored public response stale (after a commit that changed public data)."""
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:
        # Never set, or evicted: start from the clock, so an entry from before cannot match.
        cache.add(GENERATION_KEY, time.time_ns(), timeout=None)
    except Exception as exc:  # the cache is down: entries expire by their timeout
        logger.error("Public response cache not invalidated: the cache failed: %s", exc)


@receiver(setting_changed)
def _settings_changed(**kwargs) -> None:
    """A setting changed (tests only): what a page shows may change with it."""
    bump_public_generation()


def is_public_write(sql) -> bool:
    if isinstance(sql, bytes):
        text = sql.decode("utf-8", "replace")
    else:
        text = sql if isinstance(sql, str) else str(sql)
    for match in WRITE.finditer(text):
        if not PRIVATE_TABLE.match(match.group(1)):
            return True
    return bool(OTHER_WRITE.search(text))


def _bump_after_commit(execute, sql, params, many, context):
    result = execute(sql, params, many, context)
    if is_public_write(sql):
        connection = context["connection"]
        if not _pending(connection):
            # Runs at once outside a transaction (the statement has committed), else at commit;
            # dropped on rollback.
            transaction.on_commit(bump_public_generation, using=connection.alias)
    return result


def _pending(connection) -> bool:
    """Whether this connection's open transaction has written public data not yet committed."""
    return connection.in_atomic_block and any(
        func is bump_public_generation for _, func, _ in connection.run_on_commit
    )


def _watch_writes(sender, connection, **kwargs):
    # First in the list, not last: `connection.execute_wrapper()` blocks (django-pghistory's
    # request context among them) pop the last wrapper when they end, so one appended while such
    # a block runs (a connection opened mid-request) would be popped in place of theirs, leaving
    # theirs installed after its context is gone.
    if _bump_after_commit not in connection.execute_wrappers:
        connection.execute_wrappers.insert(0, _bump_after_commit)


def watch_writes() -> None:
    """Count the writes of every database connection (called once, from TrackerConfig.ready)."""
    connection_created.connect(_watch_writes, dispatch_uid="public-response-cache")
    for connection in connections.all(initialized_only=True):
        _watch_writes(None, connection)


# The middleware --------------------------------------------------------------------------------


def _only_csrf_cookie(request) -> bool:
    return all(name == settings.CSRF_COOKIE_NAME for name in request.COOKIES)


def may_use_cache(request) -> bool:
    """Whether this request may be answered from, or fill, the shared cache."""
    return (
        request.method in ("GET", "HEAD")
        and not request.path.startswith(settings.STATIC_URL)  # files WhiteNoise serves itself
        and may_read_from_replica(request)
        and _only_csrf_cookie(request)
        and not _pending(connections[DEFAULT_DB_ALIAS])
    )


def entry_key(request) -> str:
    parts = [
        request.scheme,
        request.get_host(),
        request.get_full_path(),
        *(request.META.get(name, "") for name in KEYED_HEADERS),
    ]
    digest = hashlib.sha256("\n".join(parts).encode("utf-8", "surrogateescape")).hexdigest()
    return ENTRY_PREFIX + digest


def may_store(request, response) -> bool:
    if request.method != "GET" or response.status_code not in STORED_STATUSES:
        return False
    if response.streaming or response.cookies or request.META.get("CSRF_COOKIE_USED"):
        return False
    if "public" not in response.get("Cache-Control", ""):
        return False
    vary = {v.strip().lower() for v in cc_delim_re.split(response.get("Vary", "")) if v.strip()}
    return vary <= KEYED_VARY


def freeze(generation, response) -> tuple:
    return (generation, response.status_code, list(response.items()), response.content)


def thaw(stored) -> HttpResponse:
    _generation, status, headers, content = stored
    return HttpResponse(content, status=status, headers=dict(headers))


def _throttled(request) -> bool:
    """Whether an API read is over the anonymous rate limit; a hit counts as a request."""
    from detainees.api.throttling import AnonReadThrottle  # noqa: PLC0415 (tracker wires api)

    request.user = AnonymousUser()
    return not AnonReadThrottle().allow_request(request, None)


class PublicResponseCacheMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        seconds = settings.PUBLIC_RESPONSE_CACHE_SECONDS
        if not seconds or not may_use_cache(request):
            return self.get_response(request)
        key = entry_key(request)
        try:
            found = cache.get_many([GENERATION_KEY, key])
        except Exception as exc:
            logger.error("Public response cache not read: the cache failed: %s", exc)
            return self.get_response(request)
        generation = found.get(GENERATION_KEY)
        stored = found.get(key)
        conditional = any(name in request.META for name in CONDITIONAL_HEADERS)
        if (
            generation is not None
            and stored is not None
            and stored[0] == generation
            and not conditional
            and not (request.path.startswith("/api/") and _throttled(request))
        ):
            return thaw(stored)
        response = self.get_response(request)
        if generation is None:
            bump_public_generation()  # the first read after a start or an eviction
        elif may_store(request, response) and not _pending(connections[DEFAULT_DB_ALIAS]):
            try:
                cache.set(key, freeze(generation, response), timeout=seconds)
            except Exception as exc:
                logger.error("Public response cache not filled: the cache failed: %s", exc)
        return response
