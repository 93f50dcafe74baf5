"""Where the webhook may post: never this machine, link-local addresses or the database.

The webhook URL is the one address an administrator types that the server
then requests itself, so it could be pointed at the server's own services,
the cloud's metadata service (169.254.169.254) or the database.  A target is
refused when its host resolves to a loopback, link-local, unspecified or
multicast address (IPv4, IPv6 or IPv4 mapped into IPv6; ``localhost`` by
name too), unless internal targets are allowed (``SANHU_WEBHOOK_ALLOW_INTERNAL``
or the admin's checkbox: an intranet robot on this machine).  The database's
port is refused always.  Private networks (10/8, 192.168/16 …) are allowed:
an intranet install's robot lives there.

The check runs when the URL is saved and again before every send, since a
name can resolve differently later.  A name that does not resolve is not
refused here: sending to it fails on its own.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url

SCHEME_PORTS = {"http": 80, "https": 443}
DATABASE_PORTS = {"postgresql": 5432, "mysql": 3306, "mariadb": 3306, "mssql": 1433,
                  "oracle": 1521}
INTERNAL = "internal target"
DATABASE_PORT = "database port"
INVALID = "invalid URL"


def database_port(database_url: str) -> int | None:
    """The TCP port of the database server (``None`` for SQLite, a file)."""
    url = make_url(database_url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        return None
    return url.port or DATABASE_PORTS.get(backend)


def _internal(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone ("fe80::1%eth0")
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback or ip.is_link_local or ip.is_unspecified or ip.is_multicast


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to now (an IP literal, decimal or hex forms too)."""
    return sorted({info[4][0] for info in socket.getaddrinfo(host, port,
                                                             type=socket.SOCK_STREAM)})


def target_problem(url: str, *, allow_internal: bool,
                   database_port: int | None = None) -> str | None:
    """Why the webhook may not post to ``url`` (``INTERNAL``, ``DATABASE_PORT``,
    ``INVALID``), or ``None`` when it may."""
    parts = urlsplit(url)
    try:
        port = parts.port or SCHEME_PORTS.get(parts.scheme.lower())
    except ValueError:
        return INVALID
    host = (parts.hostname or "").rstrip(".").lower()
    if not host or port is None:
        return INVALID
    if database_port is not None and port == database_port:
        return DATABASE_PORT
    if allow_internal:
        return None
    if host == "localhost" or host.endswith(".localhost"):
        return INTERNAL
    try:
        addresses = resolve(host, port)
    except (OSError, UnicodeError):
        return None  # unknown name: the send fails by itself
    return INTERNAL if any(_internal(a) for a in addresses) else None
