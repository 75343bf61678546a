"""The client's address, read the same way wherever the app counts requests per client.

Used by the API's throttle (detainees/api/throttling.py) and by django-axes's login lockout.
"""

import ipaddress
from functools import lru_cache

from django.conf import settings

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(trusted: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in trusted)


def _address(text: str) -> Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def is_trusted_proxy(address: str | None) -> bool:
    """Whether a connection from this address comes from one of TRUSTED_PROXIES."""
    parsed = _address(address or "")
    if parsed is None:
        return False
    return any(parsed in network for network in _networks(tuple(settings.TRUSTED_PROXIES)))


def client_ip(request) -> str | None:
    """The peer's address, or, when the peer is a trusted proxy, the first untrusted hop.

    X-Forwarded-For is read from the right: each proxy appends the address it was connected
    from, so the entries right of the first untrusted one were written by our own proxies and
    everything left of it is whatever the client sent, which would let anyone pick the address
    its failed logins and API requests are counted against.
    """
    remote = request.META.get("REMOTE_ADDR")
    if not is_trusted_proxy(remote):
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    nearest = remote
    for hop in reversed([hop for hop in hops if hop]):
        if _address(hop) is None:
            # Not an address: no proxy of ours wrote it, so the last trusted hop is all we know.
            return nearest
        if not is_trusted_proxy(hop):
            return str(_address(hop))
        nearest = hop
    return nearest
