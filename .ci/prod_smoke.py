"""A smoke crawl of a running production server (.ci/prod-check): status codes and headers.

    python .ci/prod_smoke.py http://127.0.0.1:PORT

Standard library only, so it runs in the production virtualenv. Requests come as from the TLS
proxy in front (X-Forwarded-Proto: https, from the trusted loopback address); one plain http
request checks the redirect to https. Prints one line per URL; exits 1 on the first failure.
"""

import re
import sys
import time
import urllib.error
import urllib.request

HTTPS = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.20"}
PAGE_HEADERS = {
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains; preload",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
DENIED_FEATURES = ("camera", "microphone", "geolocation", "payment", "usb")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(NoRedirect)


def fetch(base: str, path: str, headers: dict[str, str] | None = None):
    request = urllib.request.Request(base + path, headers=headers or {})
    try:
        with OPENER.open(request, timeout=60) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def fail(message: str) -> None:
    print(f"FAIL {message}", file=sys.stderr)
    sys.exit(1)


def wait_until_up(base: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            fetch(base, "/static/detainees/site.css", HTTPS)
            return
        except OSError:
            time.sleep(0.5)
    fail(f"the server at {base} did not answer within 60 s")


def check_page(base, path, status=200, contains=None, security=True, content_type=None):
    code, headers, body = fetch(base, path, HTTPS)
    if code != status:
        fail(f"{path}: status {code}, expected {status}")
    if contains and contains.encode() not in body:
        fail(f"{path}: the body lacks {contains!r}")
    if content_type and not headers.get("Content-Type", "").startswith(content_type):
        fail(f"{path}: Content-Type {headers.get('Content-Type')!r}, expected {content_type}")
    if security:
        for name, value in PAGE_HEADERS.items():
            if headers.get(name) != value:
                fail(f"{path}: {name} is {headers.get(name)!r}, expected {value!r}")
        csp = headers.get("Content-Security-Policy", "")
        script_src = re.search(r"script-src ([^;]*)", csp)
        if not script_src or script_src.group(1).split() != ["'self'"]:
            fail(f"{path}: Content-Security-Policy script-src is not 'self' only: {csp!r}")
        policy = headers.get("Permissions-Policy", "")
        for feature in DENIED_FEATURES:
            if f"{feature}=()" not in policy:
                fail(f"{path}: Permissions-Policy does not deny {feature}: {policy!r}")
    print(f"ok {code} {path}")
    return body


def main(base: str) -> None:
    wait_until_up(base)
    check_page(base, "/", contains="Detainee-release tracker")
    check_page(base, "/people/", contains="Bilal")
    check_page(base, "/events/")
    check_page(base, "/search/?q=bilal", contains="Bilal")
    check_page(base, "/api/v1/persons/", contains='"results"', content_type="application/json")
    check_page(base, "/api/schema/", contains="openapi")
    docs = check_page(base, "/api/docs/", contains="swagger-ui").decode()
    if "<script>" in docs:
        fail("/api/docs/: an inline script, which the CSP refuses")
    script = re.search(r'<script src="([^"]*script=[^"]*)"', docs)
    if not script:
        fail("/api/docs/: no separate start-up script")
    check_page(
        base,
        script.group(1).replace("&amp;", "&"),
        contains="SwaggerUIBundle",
        security=False,
        content_type="application/javascript",
    )
    check_page(base, "/static/detainees/site.css", security=False, content_type="text/css")
    check_page(base, "/no-such-page/", status=404, contains="Page not found")
    check_page(base, "/admin/login/", contains="Detainee-release tracker")
    check_page(base, "/readyz", contains='"ready"', security=False)

    # Plain http without the proxy's X-Forwarded-Proto: redirected to https.
    code, headers, _ = fetch(base, "/people/")
    if code != 301 or not headers.get("Location", "").startswith("https://"):
        fail(f"plain http /people/: {code} {headers.get('Location')!r}, expected 301 to https")
    print("ok 301 /people/ over plain http, to https")
    # Health probes come straight to the server over plain http: no redirect for them.
    for probe in ("/healthz", "/readyz"):
        code, _, _ = fetch(base, probe)
        if code != 200:
            fail(f"plain http {probe}: status {code}, expected 200")
        print(f"ok 200 {probe} over plain http")
    print("smoke crawl: all checks passed")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1].rstrip("/"))
