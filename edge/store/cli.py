"""``edge import contacts|catalog FILE [--format jsonl|csv]``: stream a file into Redis.

Prints the report as JSON; exits 1 if any row was refused (the good rows are imported anyway),
2 if the file cannot be read.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any, TextIO

from edge.store.imports import import_catalog, import_contacts
from edge.store.server import start_redis


def _format_for(path: str, fmt: str | None) -> str:
    if fmt:
        return fmt
    return "csv" if path.lower().endswith(".csv") else "jsonl"


def _lines(stream: TextIO) -> Iterator[str]:
    yield from stream


def _release(handle: Any) -> None:
    # An edge already running on this data dir shares the embedded server: leave it up.
    server = handle.embedded
    if server is not None:
        try:
            shared = server._connection_count() > 1
        except Exception:
            shared = False
        if shared:
            handle.embedded = None
    handle.close()


async def run_import(settings: Any, kind: str, path: str, fmt: str | None = None,
                     out: TextIO | None = None) -> int:
    out = out or sys.stdout
    fmt = _format_for(path, fmt)
    importer = import_contacts if kind == "contacts" else import_catalog
    try:
        stream: TextIO = sys.stdin if path == "-" else open(path, encoding="utf-8", newline="")
    except OSError as exc:
        print(f"edge import: cannot read {path}: {exc.strerror}", file=sys.stderr)
        return 2
    handle = start_redis(settings.redis_url, settings.data_dir)
    client = handle.client(timeout=30)
    try:
        report = await importer(client, _lines(stream), fmt)
    finally:
        await client.aclose()
        _release(handle)
        if stream is not sys.stdin:
            stream.close()
    json.dump({"kind": kind, "format": fmt, **report.to_json()}, out, ensure_ascii=False)
    out.write("\n")
    return 1 if report.failed else 0
