"""Settings for the tracker, read from the environment.

Every value a deployment sets comes from an environment variable; a bad value fails at start-up
with ImproperlyConfigured rather than at the first request. Defaults are safe for local use only:
DEBUG is off unless set, and a SECRET_KEY is only invented when DEBUG is on.
"""

import ipaddress
import math
import os
import re
import warnings
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false (1/0, yes/no), not {raw!r}.")


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_int(name: str, default: int, minimum: int = 1) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        value = None
    if value is None or value < minimum:
        raise ImproperlyConfigured(
            f"{name} must be a whole number of at least {minimum}, not {raw!r}."
        )
    return value


def env_seconds(name: str, default: float, minimum: float = 0.0) -> float:
    """A number of seconds, whole or decimal (`5`, `0.5`), at least `minimum`."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw.strip())
    except ValueError:
        value = None
    if value is None or not math.isfinite(value) or value < minimum:
        raise ImproperlyConfigured(
            f"{name} must be a number of seconds of at least {minimum:g} (e.g. 5 or 0.5), "
            f"not {raw!r}."
        )
    return value


def env_rate(name: str, default: str) -> str:
    """A request rate as DRF's throttles read it: a count per second, minute, hour or day."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip()
    if not re.fullmatch(r"[1-9]\d*/(s|sec|second|m|min|minute|h|hour|d|day)", value):
        raise ImproperlyConfigured(
            f"{name} must be a number of requests per second, minute, hour or day "
            f"(e.g. 600/minute), not {raw!r}."
        )
    return value


def env_networks(name: str) -> list[str]:
    """Comma-separated IP addresses or CIDR networks, e.g. `10.0.0.5, 192.0.2.0/24`."""
    networks = []
    for n, item in enumerate(env_list(name, []), start=1):
        try:
            networks.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise ImproperlyConfigured(
                f"{name} entry {n} must be an IP address or a network such as 10.0.0.0/8, "
                f"not {item!r}."
            ) from None
    return networks


def env_cache(name: str) -> dict:
    """A shared cache from `redis://[:password@]host[:port][/db]`, else one per process."""
    raw = (os.environ.get(name) or "").strip()
    if not raw:
        # One process only (e.g. `make run`'s runserver): fine there, wrong behind several
        # gunicorn workers, which the deploy check tracker.W001 says.
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    try:
        url = urlsplit(raw)
        url.port  # noqa: B018 (reading it validates it)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} could not be read: {exc}") from None
    if url.scheme not in {"redis", "rediss"} or not url.hostname:
        raise ImproperlyConfigured(
            f"{name} must be a Redis URL such as redis://127.0.0.1:6379/0 (or rediss:// for "
            f"TLS), not {raw!r}."
        )
    if url.path not in {"", "/"} and not url.path[1:].isdigit():
        raise ImproperlyConfigured(
            f"{name} may end in a database number (/0, /1, ...), not {url.path!r}."
        )
    return {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": raw,
        "KEY_PREFIX": "tracker",
    }


TILE_PLACEHOLDERS = re.compile(r"\{([a-z]+)\}")


def env_tile_url(name: str, default: str) -> str:
    """A Leaflet tile URL template: http(s), a host, and {z}, {x} and {y} (optionally {s} for
    the server's subdomains and {r} for retina tiles), nothing else in braces."""
    raw = (os.environ.get(name) or "").strip() or default
    url = urlsplit(raw.replace("{s}", "a"))
    placeholders = set(TILE_PLACEHOLDERS.findall(raw))
    if url.scheme not in {"http", "https"} or not url.hostname:
        raise ImproperlyConfigured(f"{name} must be an http(s) URL with a host, not {raw!r}.")
    if not {"z", "x", "y"} <= placeholders or placeholders - {"z", "x", "y", "s", "r"}:
        raise ImproperlyConfigured(
            f"{name} must contain {{z}}, {{x}} and {{y}} (and may contain {{s}} and {{r}}), "
            f"not {raw!r}."
        )
    if "{s}" in raw and "{s}" not in raw.split("/")[2]:
        raise ImproperlyConfigured(f"{name}: {{s}} belongs in the host name, not {raw!r}.")
    return raw


def tile_origin(template: str) -> str:
    """The origin the tiles come from, for the Content-Security-Policy: `*.` for {s}."""
    host = template.split("/")[2]
    return f"{template.split(':', 1)[0]}://{host.replace('{s}', '*')}"


def env_text(name: str, default: str, max_length: int = 300) -> str:
    """Plain text shown on pages (escaped there): one line, no markup."""
    raw = os.environ.get(name)
    value = default if raw is None or raw.strip() == "" else raw.strip()
    if len(value) > max_length or any(c in value for c in "<>\n\r"):
        raise ImproperlyConfigured(
            f"{name} must be one line of plain text (no < or >) of at most {max_length} "
            f"characters, not {raw!r}."
        )
    return value


def env_url(name: str, default: str) -> str:
    raw = (os.environ.get(name) or "").strip() or default
    url = urlsplit(raw)
    if url.scheme not in {"http", "https"} or not url.hostname:
        raise ImproperlyConfigured(f"{name} must be an http(s) URL with a host, not {raw!r}.")
    return raw


DEBUG = env_bool("DEBUG", default=False)
# The proxies in front (a TLS terminator, a load balancer), by address. Only a request whose
# connection comes from one of them may carry X-Forwarded-For/-Proto/-Host
# (tracker/proxies.py strips them from everyone else), and the client's address is the
# right-most X-Forwarded-For entry that is not one of them (tracker/client_ip.py).
TRUSTED_PROXIES = env_networks("TRUSTED_PROXIES")
if env_bool("BEHIND_TLS_PROXY", default=False):
    # The old flag trusted the last X-Forwarded-For entry from any connection. Refusing to
    # start is safer than quietly counting every client as the proxy's one address.
    raise ImproperlyConfigured(
        "BEHIND_TLS_PROXY is replaced by TRUSTED_PROXIES: set it to the address(es) of the "
        "proxy in front (e.g. TRUSTED_PROXIES=10.0.0.5) and unset BEHIND_TLS_PROXY."
    )

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    # Only ever used with DEBUG on, on a developer's own machine.
    SECRET_KEY = "django-insecure-local-development-only"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

if not os.environ.get("DATABASE_URL"):
    raise ImproperlyConfigured(
        "DATABASE_URL is not set. Use 'make run' or 'make test', which start an embedded "
        "PostgreSQL, or point DATABASE_URL at a PostgreSQL 15+ server."
    )
try:
    _database = dj_database_url.parse(
        # Seconds a connection is kept for the next request; 0 closes it after each one.
        os.environ["DATABASE_URL"],
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60, minimum=0),
    )
except (ValueError, KeyError) as exc:
    raise ImproperlyConfigured(f"DATABASE_URL could not be read: {exc}") from exc
if _database["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL (postgresql://...).")
_database["CONN_HEALTH_CHECKS"] = True
DATABASES = {"default": _database}
# Read replicas, comma-separated: anonymous public reads are spread over them (tracker/routers.py).
for _n, _url in enumerate(env_list("DATABASE_REPLICA_URLS", []), start=1):
    try:
        _replica = dj_database_url.parse(_url, conn_max_age=_database["CONN_MAX_AGE"])
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"DATABASE_REPLICA_URLS entry {_n} could not be read: {exc}"
        ) from exc
    if _replica["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured(f"DATABASE_REPLICA_URLS entry {_n} must be PostgreSQL.")
    _replica["CONN_HEALTH_CHECKS"] = True
    # A replica out of reach is given up on quickly (libpq's shortest wait is 2 s); the URL's
    # own `?connect_timeout=N` wins.
    _replica.setdefault("OPTIONS", {}).setdefault("connect_timeout", 2)
    _replica["TEST"] = {"MIRROR": "default"}
    DATABASES[f"replica{_n}"] = _replica
# A replica further behind the primary than this is left out until it catches up; each process
# checks each replica at most this often (tracker/routers.py).
DATABASE_REPLICA_MAX_LAG_SECONDS = env_seconds("DATABASE_REPLICA_MAX_LAG_SECONDS", 5.0)
DATABASE_REPLICA_CHECK_SECONDS = env_seconds("DATABASE_REPLICA_CHECK_SECONDS", 2.0, minimum=0.1)
DATABASE_ROUTERS = ["tracker.routers.ReplicaRouter"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_countries",
    "django_filters",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "pgtrigger",
    "pghistory",
    "axes",
    "csp",
    "tracker.apps.TrackerConfig",
    # Before detainees: its task module registers on procrastinate's app (detainees/write/tasks.py).
    "procrastinate.contrib.django",
    "detainees",
]

MIDDLEWARE = [
    # First: X-Forwarded-* headers are dropped unless the connection is a trusted proxy's.
    "tracker.proxies.TrustedProxyMiddleware",
    # Anonymous public reads answered from the shared cache, with the headers every middleware
    # below gave the stored response (tracker/response_cache.py).
    "tracker.response_cache.PublicResponseCacheMiddleware",
    "tracker.caching.PublicCacheHeadersMiddleware",
    # A lost or refused database connection answers 503 with Retry-After (tracker/outage.py).
    "tracker.outage.DatabaseOutageMiddleware",
    "tracker.routers.ReplicaMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    # Before any view reads a parameter: every query-string value is bounded in length.
    "detainees.web.params.ParameterBoundsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # After authentication: attaches the user and URL to every change a request writes.
    "detainees.write.history.HistoryMiddleware",
    # Last, as django-axes asks: turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "tracker.urls"
WSGI_APPLICATION = "tracker.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

AUTHENTICATION_BACKENDS = [
    # First, so a locked-out username and address is refused before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# Staff accounts can publish and see private notes: longer passwords than Django's default 8.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"

# Countries that no longer exist, for nationalities and places as registers of the time give
# them: the two-letter codes ISO 3166-1 gave them (kept in ISO 3166-3 as former codes), which
# ISO has not given again. Czechoslovakia's "CS" was later Serbia and Montenegro's, 2003-2006.
COUNTRIES_OVERRIDE = {
    "YU": "Yugoslavia",
    "CS": "Czechoslovakia",
    "SU": "Soviet Union",
    "DD": "East Germany",
    "YD": "South Yemen",
}
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Where collectstatic writes (WhiteNoise serves from there with DEBUG off).
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
if DEBUG:
    # Locally, static files come from the apps (WhiteNoise's finders); collectstatic only runs
    # for deployments, so its missing output folder is expected.
    warnings.filterwarnings("ignore", message="No directory at: .*staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": [
        # DRF's JSON written by orjson (the same bytes, faster: detainees/api/renderers.py).
        "detainees.api.renderers.JSONRenderer",
        "detainees.api.renderers.CSVRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": ["detainees.api.parsers.BoundedJSONParser"],
    # Scripts send `Authorization: Token <key>` (keys are issued in the admin); people logged in
    # to the admin may use the browsable session too. Token comes first, so an anonymous write
    # is answered 401 with `WWW-Authenticate: Token`, not 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["detainees.api.permissions.ReadOrRolePermission"],
    "URL_FORMAT_OVERRIDE": "format",
    "DEFAULT_SCHEMA_CLASS": "detainees.api.schema.AutoSchema",
    # Clients are told apart by tracker.client_ip (TRUSTED_PROXIES), not by DRF's NUM_PROXIES;
    # the counts live in the default cache, shared between workers when CACHE_URL is set.
    "DEFAULT_THROTTLE_CLASSES": ["detainees.api.throttling.AnonReadThrottle"],
    # One error shape (detainees/api/errors.py); an unknown `?format=` is a 400 naming it.
    "EXCEPTION_HANDLER": "detainees.api.errors.exception_handler",
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "detainees.api.negotiation.ContentNegotiation",
}
# The largest JSON body a write may send (bytes); larger ones are answered 413 unread.
API_MAX_BODY_BYTES = env_int("API_MAX_BODY_BYTES", 2 * 1024 * 1024)
# `POST /api/v1/bulk/` (detainees/api/bulk.py): the largest body (bytes) and the most records it
# takes in one request; larger ones are answered 413 naming the setting. The import runs within
# the request at the importer's pace (100,000 rows in about 50 s on 2 CPUs): the proxy in front
# must wait that long (gunicorn's gthread workers are not cut off by their timeout).
API_BULK_MAX_BYTES = env_int("API_BULK_MAX_BYTES", 32 * 1024 * 1024)
API_BULK_MAX_RECORDS = env_int("API_BULK_MAX_RECORDS", 50_000)
# Requests per client address to the API, for anonymous readers (all of them).
API_ANON_RATE = env_rate("API_ANON_RATE", "600/minute")

# How long a CDN or proxy may keep an anonymous public page or API response (tracker/caching.py).
PUBLIC_CACHE_SECONDS = env_int("PUBLIC_CACHE_SECONDS", 60, minimum=0)
# How long the server keeps a whole anonymous public response in the default cache (Redis with
# CACHE_URL) at most; any committed change to the data empties it before that
# (tracker/response_cache.py). 0 turns the shared response cache off.
PUBLIC_RESPONSE_CACHE_SECONDS = env_int("PUBLIC_RESPONSE_CACHE_SECONDS", 300, minimum=0)

SPECTACULAR_SETTINGS = {
    "TITLE": "Detainee-release tracker API",
    "DESCRIPTION": (
        "The tracker's published records: people, events, organizations, places, facilities, "
        "release batches and sources. Anonymous readers see published records only; drafts and "
        "internal notes never appear to them.\n\n"
        "Writes (people, events, organizations, places, sources) need a token issued in the "
        "admin, sent as `Authorization: Token <key>`, and a role: researchers create and edit "
        "drafts and submit them for review, editors also publish, withdraw, correct and "
        "delete. Signed-in roles may also GET any one record by id, drafts included. "
        "`PUT`, `PATCH` and `DELETE` must send `If-Match` with the `ETag` of the record's GET: "
        "428 without it, 412 when someone changed the record since. Unknown and read-only "
        "fields are refused with a 400 naming them.\n\n"
        "Lists are pages of at most `page_size` rows (default 50, up to 500). Follow `next` (also "
        'sent as a `Link: rel="next"` header) to get the following page; there is no total '
        "count. `ordering` picks one of each list's allowed orderings.\n\n"
        "Dates recorded with uncertainty are fuzzy dates: their EDTF text (`2011`, `2013-03`, "
        "`2011-04-20/2014`), the earliest and latest day they could mean, and an English "
        "rendering.\n\n"
        "Every list answers JSON or CSV (`?format=csv` or `Accept: text/csv`). Errors are JSON "
        'in every format: a 400 names each invalid parameter or field, `{"name": ["message", '
        "...]}` (a body that is not JSON under `non_field_errors`); any other error is "
        '`{"detail": "message"}`. A parameter sent empty is a 400; unknown ones are ignored. '
        "In CSV, a "
        "text cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is written with "
        "a `'` in front, so no spreadsheet runs it as a formula; numbers are written as they "
        "are.\n\n"
        "`GET /api/v1/export.jsonl[?types=persons,events,...]` streams every published record "
        'as JSON Lines, one `{"type": "person", ...}` object per line, and ends with a trailer '
        'line `{"type": "end", "counts": {"person": 1811, "event": 5230}}` giving the number of '
        "record lines of each requested type. A download without that line, or with other "
        "counts, is incomplete: fetch it again.\n\n"
        "While the database is out of reach every request answers 503 with `Retry-After` and "
        '`{"detail": "..."}`; retry after that many seconds.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Swagger UI would otherwise send the schema to validator.swagger.io for a badge.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    # Choice sets shared by several models get one stable component name instead of one
    # derived from whichever field happens to be met first.
    "ENUM_NAME_OVERRIDES": {
        "ClaimStatusEnum": "detainees.domain.models.ClaimStatus",
        "PublicationStatusEnum": "detainees.domain.models.PublicationStatus",
        # Several models have a `kind`: each set gets its model's name.
        "EventKindEnum": "detainees.domain.models.events.EventKind",
        "OrganizationKindEnum": "detainees.domain.models.organizations.OrganizationKind",
        "OrganizationNameKindEnum": "detainees.domain.models.organizations.OrganizationNameKind",
        "PersonNameKindEnum": "detainees.domain.models.people.PersonNameKind",
        "RelationshipKindEnum": "detainees.domain.models.people.RelationshipKind",
        "PlaceKindEnum": "detainees.domain.models.places.PlaceKind",
        "FacilityKindEnum": "detainees.domain.models.places.FacilityKind",
        "FacilityNameKindEnum": "detainees.domain.models.places.FacilityNameKind",
        "FacilityControlRoleEnum": "detainees.domain.models.places.FacilityControlRole",
        "SourceKindEnum": "detainees.domain.models.sources.SourceKind",
    },
    # Request bodies get their own components, without the read-only fields (ids, timestamps)
    # that writes refuse.
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_GENERATE_CHOICE_DESCRIPTION": True,
    # Writes refuse fields they do not know (400 naming them): the request shapes say so.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "detainees.api.schema.closed_request_bodies",
    ],
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Behind TLS in production: cookies only over HTTPS unless explicitly turned off (e.g. a local
# docker-compose on plain http).
SECURE_COOKIES = env_bool("SECURE_COOKIES", default=not DEBUG)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
if TRUSTED_PROXIES:
    # Only trusted proxies' X-Forwarded-Proto survives tracker.proxies, so this is safe.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# HTTPS only, opt-in: redirect plain http, and tell browsers to use https for
# SECURE_HSTS_SECONDS (sent on https responses only). Start small: a browser remembers it.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=False)
# Load balancers and orchestrators probe the app directly over plain http.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# The map's background (Leaflet, static/detainees/map.js): a tile server's URL template and the
# credit its licence asks for, shown on the map as a link. OpenStreetMap's by default; its tile
# usage policy suits a small site, a busy one should use its own or a commercial server.
MAP_TILE_URL = env_tile_url("MAP_TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
MAP_TILE_ATTRIBUTION = env_text("MAP_TILE_ATTRIBUTION", "© OpenStreetMap contributors")
MAP_TILE_ATTRIBUTION_URL = env_url(
    "MAP_TILE_ATTRIBUTION_URL", "https://www.openstreetmap.org/copyright"
)

# Content-Security-Policy (django-csp): scripts, and everything else, from this site only; no
# inline or injected script. Inline style attributes stay allowed (the figures' bar widths and
# the admin use them); they cannot run code. Swagger UI's start-up script is a separate file
# (SpectacularSwaggerSplitView) and its icons are data: images. Images may also come from the
# map's tile server (MAP_TILE_URL), and from nowhere else.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", tile_origin(MAP_TILE_URL)],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}
# Permissions-Policy (django-permissions-policy): no page needs any of these devices or APIs.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "bluetooth",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "hid",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
}

# The cache (API throttle counts, anything else cached): CACHE_URL (Redis) shared by every
# worker and host; without it, one cache per process.
CACHES = {"default": env_cache("CACHE_URL")}
# Sessions as Django intends (database-backed, HttpOnly, SameSite=Lax), ending after a working
# day rather than Django's two weeks: an admin session can publish and read private notes.
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 12 * 60 * 60)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

# Admin logins (django-axes): after AXES_FAILURE_LIMIT wrong passwords for one username from
# one address, that pair is refused for AXES_COOLOFF_HOURS, even with the right password.
# Username *and* address, so a stranger cannot lock a researcher out from elsewhere, and one
# address cannot keep guessing one account. `manage.py axes_reset_username NAME` lifts it early.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_HOURS", 1)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Attempts and lockouts are rows in the database, so every worker and host shares them.
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
# The same client address as the API's throttle (TRUSTED_PROXIES): a forged X-Forwarded-For
# from anyone but a trusted proxy unlocks nothing.
CLIENT_IP_CALLABLE = "tracker.client_ip.client_ip"
AXES_CLIENT_IP_CALLABLE = CLIENT_IP_CALLABLE
# Password fields are never written to the access log.
AXES_SENSITIVE_PARAMETERS = ["password"]

# Audit history (django-pghistory, see detainees/domain/models/history.py): only requests that can
# write carry the user and URL to the database; GETs never change records.
PGHISTORY_MIDDLEWARE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
# History rows cannot be changed or deleted, not even by the application.
PGHISTORY_APPEND_ONLY = True
# The time of each change, not of its transaction: a bulk action's changes keep their order.
PGHISTORY_CREATED_AT_FUNCTION = "clock_timestamp()"

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_LEVEL = (os.environ.get("LOG_LEVEL") or "WARNING").strip().upper()
if LOG_LEVEL not in LOG_LEVELS:
    raise ImproperlyConfigured(
        f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {os.environ['LOG_LEVEL']!r}."
    )
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
}

# Where `manage.py export --archive` (and `make export`) writes the data package the public
# /data/ page offers for download; it must be readable by the web server.
EXPORT_DIR = Path(os.environ.get("EXPORT_DIR") or BASE_DIR / ".data" / "export")
# Uploads waiting between the admin import's preview and its confirmation; private.
IMPORT_UPLOAD_DIR = Path(os.environ.get("IMPORT_UPLOAD_DIR") or BASE_DIR / ".data" / "imports")


# --- Background jobs and import limits ------------------------------------------------------
# Imports run as background jobs on procrastinate's queue, kept in this same PostgreSQL
# database (its tables come with `manage.py migrate`); `manage.py procrastinate worker` runs
# them. Tasks are found in each app's tasks.py.
PROCRASTINATE_AUTODISCOVER_MODULE_NAME = "write.tasks"
# An import job writes its progress at most once every this many rows.
IMPORT_PROGRESS_ROWS = env_int("IMPORT_PROGRESS_ROWS", 500)
# The largest file the admin import accepts, in bytes (50 MB). A web server or proxy in front
# should refuse larger request bodies before they reach the application.
IMPORT_MAX_UPLOAD_BYTES = env_int("IMPORT_MAX_UPLOAD_BYTES", 50 * 1024 * 1024)
# Zips (uploaded or read by `manage.py import_records`) are checked against these before and
# while they are read: at most this many entries, this many bytes once unpacked in all, and no
# member (of more than 1 MB) unpacking to more than IMPORT_MAX_RATIO times its packed size.
IMPORT_MAX_MEMBERS = env_int("IMPORT_MAX_MEMBERS", 1000)
IMPORT_MAX_UNCOMPRESSED_BYTES = env_int("IMPORT_MAX_UNCOMPRESSED_BYTES", 500 * 1024 * 1024)
IMPORT_MAX_RATIO = env_int("IMPORT_MAX_RATIO", 100)
