"""URL rules every layer shares: what counts as this machine, same origin, and endpoint joining.

Standard library only, so anything (config, auth, providers, cli) may import it. One answer to
"is this host local?" matters: it decides whether an environment proxy is bypassed and whether
plain ``http://`` is acceptable, and two different answers let a request take the other path.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit, urlunsplit

__all__ = ["endpoint_url", "is_loopback_host", "same_origin"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


def is_loopback_host(host: str | None) -> bool:
    """True for ``localhost``, any address in 127.0.0.0/8, and ``::1`` (bracketed or not).

    Anything else is remote, including names that merely start with "127." or "localhost"
    (``127.0.0.1.evil.example``, ``localhost.evil.example``): a false "local" would skip a proxy
    or accept plain http for a stranger's host.
    """
    if not host:
        return False
    h = host.strip().lower()
    if h.startswith("[") and h.endswith("]"):
        h = h[1:-1]
    h = h.split("%", 1)[0]  # an IPv6 zone id (fe80::1%eth0) names an interface, not an address
    if h in ("localhost", "localhost."):
        return True
    try:
        addr = ipaddress.ip_address(h)
    except ValueError:
        return False
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped.is_loopback  # ::ffff:127.0.0.1
    return addr.is_loopback


def _origin(url: str) -> tuple[str, str, int | None] | None:
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:  # a port that is not a number, or out of range
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if not scheme or not host:
        return None
    return scheme, host, port if port is not None else _DEFAULT_PORTS.get(scheme)


def same_origin(url_a: str, url_b: str) -> bool:
    """Same scheme, host and port (an absent port is the scheme's default); never for malformed URLs."""
    a = _origin(url_a)
    return a is not None and a == _origin(url_b)


def endpoint_url(base_url: str, path: str) -> str:
    """``path`` under ``base_url``, keeping the base URL's query string on the result.

    Azure-style bases carry the API version as a query
    (``https://h/openai/deployments/d?api-version=2024-10-21``); appending ``/chat/completions``
    to the string would put the path inside the query. A query on ``path`` itself is added after
    the base's. The fragment, which a server never sees, is dropped.
    """
    base = urlsplit(base_url.strip())
    rel, _, rel_query = path.partition("?")
    joined = base.path.rstrip("/") + "/" + rel.lstrip("/") if rel else base.path
    query = "&".join(q for q in (base.query, rel_query) if q)
    return urlunsplit((base.scheme, base.netloc, joined, query, ""))
