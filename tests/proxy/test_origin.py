"""The origin client: aiohttp with the edge's request class and connection protocol."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from edge.origin import OriginProtocol, make_origin_session
from edge.settings import Settings
from tests.support.origin import create_origin
from tests.support.servers import serve


@pytest.fixture(scope="module")
def origin() -> Iterator[str]:
    with serve(create_origin()) as url:
        yield url


async def test_connections_keep_the_origin_timeout_with_one_armed_timer(origin: str) -> None:
    session = make_origin_session(Settings(origin=origin, origin_timeout=5))
    seen: list[OriginProtocol] = []
    try:
        for _ in range(3):  # a pooled connection, reused
            # The body pauses, so the connection is still the response's when it is looked at.
            async with session.get(origin + "/stall?kind=bin&s=0.05") as resp:
                assert resp.connection is not None
                protocol = resp.connection.protocol
                assert isinstance(protocol, OriginProtocol)
                seen.append(protocol)
                await resp.read()
        assert seen[0] is seen[1] is seen[2]
        # Between requests nothing waits on the origin: the timer, if armed, has no deadline.
        assert seen[0]._deadline is None
    finally:
        await session.close()


async def test_other_callers_get_the_host_from_the_url_and_no_added_headers(origin: str) -> None:
    session = make_origin_session(Settings(origin=origin))
    try:
        async with session.get(origin + "/echo") as resp:
            payload = await resp.json()
        assert [name for name, _ in payload["headers"]] == ["host"]
        assert payload["headers"][0][1] == origin.removeprefix("http://")
    finally:
        await session.close()
