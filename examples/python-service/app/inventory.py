"""A small inventory service: pure logic plus a PostgreSQL-backed store."""
import os
import socket
from urllib.parse import urlparse


def reserve(stock: dict, item: str, count: int) -> dict:
    """Returns the stock after reserving `count` of `item`; raises when there is not enough."""
    if count <= 0:
        raise ValueError("count must be positive")
    available = stock.get(item, 0)
    if available < count:
        raise ValueError(f"only {available} {item} left")
    return {**stock, item: available - count}


def database_reachable(url: str | None = None, timeout: float = 0.5) -> bool:
    """True when the PostgreSQL server in DATABASE_URL accepts TCP connections."""
    parsed = urlparse(url or os.environ.get("DATABASE_URL", ""))
    if not parsed.hostname:
        return False
    try:
        with socket.create_connection((parsed.hostname, parsed.port or 5432), timeout=timeout):
            return True
    except OSError:
        return False
