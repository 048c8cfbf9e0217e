from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from edge.store.server import RedisHandle, start_redis

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    if not CORPUS.is_dir():
        pytest.fail(f"the shared corpus is missing at {CORPUS}")
    return CORPUS


@pytest.fixture(scope="session")
def redis_handle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisHandle]:
    """One real embedded Redis server for the whole test session."""
    handle = start_redis("", tmp_path_factory.mktemp("redis"))
    yield handle
    handle.close()


@pytest.fixture
async def redis(redis_handle: RedisHandle) -> AsyncIterator[object]:
    """An async client on the real Redis, flushed before each test."""
    client = redis_handle.client(timeout=5)
    await client.flushall()
    yield client
    await client.aclose()
