"""gunicorn settings for the production image and docker-compose (`gunicorn -c tracker/gunicorn.conf.py`).

Threaded workers (gthread): the arbiter's heartbeat comes from each worker's main loop, not from
the request being served, so a long download (the JSON Lines export, a large CSV) is never cut
off by the worker timeout, while a worker that stops answering altogether is still replaced.
Every parameter a request can make expensive is bounded before work starts (see the README's
"Limits"), so a request cannot hold a thread for long by its input alone.

Three workers of four threads, chosen for 2 cores by measuring (bench/load.py, `make
bench-load`; README "Load test"): with the shared response cache warm, 32 clients of the mixed
workload were served at 138 requests/s (p95 383 ms) by 3 x 4, against 121 (502 ms) by 2 x 4 and
94 (689 ms) by 4 x 4 and 20 (5.3 s) by 5 sync workers, on a machine at load 23-30 (the
differences among gthread counts are within that machine's noise; sync's is not). A sync worker
holds one request and no keep-alive connection, so 32 clients queue behind the slow ones; with
the cache off it also had the most errors and the slowest median. Threads let a worker overlap its waits on PostgreSQL and Redis; a third
process keeps both cores busy with Python while PostgreSQL (on the same host here) has its
share, and a fourth only adds memory and switching. GUNICORN_WORKER_CLASS (gthread or sync),
GUNICORN_WORKERS and GUNICORN_THREADS change them.
"""

import ipaddress
import os


def _networks(name: str) -> str:
    networks = []
    for item in filter(None, (part.strip() for part in os.environ.get(name, "").split(","))):
        try:
            networks.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise SystemExit(
                f"{name} entries must be IP addresses or networks such as 10.0.0.0/8, not {item!r}."
            ) from None
    return ",".join(networks)


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise SystemExit(f"{name} must be a whole number of at least 1, not {raw!r}.")
    return int(raw)


bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "").strip() or "gthread"
if worker_class not in {"gthread", "sync"}:
    raise SystemExit(f"GUNICORN_WORKER_CLASS must be gthread or sync, not {worker_class!r}.")
workers = _int("GUNICORN_WORKERS", 3)
threads = _int("GUNICORN_THREADS", 4)
# Seconds without a heartbeat before a worker is replaced (not a limit on a request's length).
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = 5
# gunicorn believes X-Forwarded-Proto (and its variants) from these addresses only: the same
# TRUSTED_PROXIES as the app (tracker/proxies.py), not gunicorn's default of any local address.
forwarded_allow_ips = _networks("TRUSTED_PROXIES")
# Recycle workers now and then, so a slow leak in any library cannot grow without bound. Not
# too often: answered from the shared cache, three workers serve a few hundred requests a second,
# and at 2,000 the load test saw a worker replaced every few seconds, each restart closing its
# keep-alive connections (errors at the clients) and leaving a worker short while the new one
# starts.
max_requests = _int("GUNICORN_MAX_REQUESTS", 20000)
max_requests_jitter = 2000
accesslog = "-"
# Request lines and headers are bounded by gunicorn before Django sees them.
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
