"""The shop's pages as the edge's own slot planner sees them: every slot the shop marks is
accepted (none rejected), the facts come through, and there is a verified place before </body>."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from edge.demo.shop import create_shop
from edge.slots import SlotPlanner
from tests.demo.helpers import shop_client

SECRET = "test-shop-secret"

PAGES = {
    "/": ("home", ("hero", "advisor", "recommendations")),
    "/c/shoes/running?page=2": ("category", ("recommendations",)),
    "/c/premium": ("category", ("recommendations",)),
    "/p/TNT-103": ("product", ("advisor", "recommendations")),
    "/cart": ("cart", ("advisor", "recommendations")),
    "/login": ("login", ()),
}


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with shop_client(create_shop(shop_secret=SECRET)) as c:
        yield c


@pytest.mark.parametrize("url", PAGES)
async def test_edge_slot_planner_accepts_every_slot(client: httpx.AsyncClient, url: str) -> None:
    page_type, expected = PAGES[url]
    body = (await client.get(url)).content
    plan = SlotPlanner(verify=True, cache_size=0).plan(body)
    assert plan.rejected == ()
    assert plan.slots == expected
    assert plan.facts["page-type"] == page_type
    assert plan.body_end is not None and body[plan.body_end:] == b"</body></html>"
    assert plan.title


async def test_edge_sees_product_facts(client: httpx.AsyncClient) -> None:
    plan = SlotPlanner(verify=True, cache_size=0).plan((await client.get("/p/TNT-103")).content)
    assert plan.facts["product"] == "TNT-103"
    assert plan.facts["category"] == "tents/trekking"
