"""The client's address, read the same way wherever the app counts requests per client."""

from django.conf import settings


def client_ip(request) -> str | None:
    """Behind the TLS proxy, the address it appended last to X-Forwarded-For; else the peer's.

    Only the last entry is the proxy's own; earlier ones are whatever the client sent, so
    trusting them would let anyone pick the address their failed logins are counted against.
    """
    if settings.BEHIND_TLS_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        last = forwarded.split(",")[-1].strip()
        if last:
            return last
    return request.META.get("REMOTE_ADDR")
