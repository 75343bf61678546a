"""Forwarded headers only from the proxies in front (TRUSTED_PROXIES).

X-Forwarded-For, -Proto, -Host and -Port say who the client is and whether it used https. Any
client can send them; only a proxy of ours may be believed. This middleware comes first and
removes them from every request whose connection is not from a trusted proxy, so nothing after
it (Django's SECURE_PROXY_SSL_HEADER, the client address, logging) can be misled.
"""

from tracker.client_ip import is_trusted_proxy

FORWARDED_HEADERS = (
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PORT",
)


class TrustedProxyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not is_trusted_proxy(request.META.get("REMOTE_ADDR")):
            for header in FORWARDED_HEADERS:
                request.META.pop(header, None)
        return self.get_response(request)
