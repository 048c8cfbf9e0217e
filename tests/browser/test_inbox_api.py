"""The inbox API over HTTP against a real server and the real Redis (no browser)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from edge.api.inbox import deliver_decided, deliver_offer
from edge.store.server import RedisHandle
from rules.decision import InboxOffer
from tests.browser.stack import Stack, run_stack


@pytest.fixture(scope="module")
def stack(redis_handle: RedisHandle, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with run_stack(redis_handle.url, tmp_path_factory.mktemp("edge"), banners={}) as s:
        yield s


@pytest.fixture
def visitor(stack: Stack) -> Iterator[httpx.Client]:
    """A new anonymous visitor: the first answer sets the signed cookie."""
    with httpx.Client(base_url=stack.edge, timeout=10,
                      headers={"user-agent": "inbox-test", "accept-language": "de"}) as c:
        first = c.get("/_edge/api/inbox")
        assert first.status_code == 200
        assert stack.settings.cookie_name in c.cookies
        yield c


def _profile_id(stack: Stack, client: httpx.Client) -> str:
    vid = stack.profiles.visitor_id([{"name": k, "value": v} for k, v in client.cookies.items()])
    return stack.profiles.load(vid).id


def test_empty_inbox_in_the_visitors_language(visitor: httpx.Client) -> None:
    data = visitor.get("/_edge/api/inbox", params={"shell": "1"}).json()
    assert data["language"] == "de"  # from Accept-Language
    assert data["unread"] == 0 and data["wishlist"] == [] and data["offers"] == []
    assert "Mein Postfach" in data["shell"] and "Noch nichts gemerkt" in data["html"]
    assert "shell" not in visitor.get("/_edge/api/inbox", params={"lang": "pl"}).json()
    assert visitor.get("/_edge/api/inbox", params={"lang": "pl"}).json()["language"] == "pl"


def test_wishlist_add_remove_and_bad_input(stack: Stack, visitor: httpx.Client) -> None:
    r = visitor.post("/_edge/api/inbox/wishlist", json={"sku": "SKU-1"})
    assert r.status_code == 200
    assert [p["sku"] for p in r.json()["wishlist"]] == ["SKU-1"]
    assert r.json()["wishlist"][0]["name"] == "Trail shoe 1"
    visitor.post("/_edge/api/inbox/wishlist", json={"sku": "SKU-5"})
    data = visitor.get("/_edge/api/inbox").json()
    assert [p["sku"] for p in data["wishlist"]] == ["SKU-5", "SKU-1"]  # newest first
    assert visitor.delete("/_edge/api/inbox/wishlist/SKU-1").json()["wishlist"][0]["sku"] == \
        "SKU-5"
    unknown = visitor.post("/_edge/api/inbox/wishlist", json={"sku": "NOPE-1"})
    assert unknown.status_code == 404 and unknown.json()["field"] == "sku"
    for body in ({"sku": "a b"}, {"sku": 5}, {}, [1]):
        bad = visitor.post("/_edge/api/inbox/wishlist", json=body)
        assert bad.status_code == 400, body
    assert visitor.post("/_edge/api/inbox/wishlist", content=b"{nope",
                        headers={"content-type": "application/json"}).status_code == 400


def test_offers_read_delete_and_not_redelivered(stack: Stack, visitor: httpx.Client) -> None:
    pid = _profile_id(stack, visitor)
    offer = InboxOffer(placement="inbox_running_discount", offer="RUN15", language="de",
                       texts={"title": "15 % Rabatt", "body": "Laufschuhe", "cta": "Los"},
                       url="/c/shoes/running?promo=RUN15", expires=4_102_444_800.0)
    assert stack.profiles.run(lambda r: deliver_decided(r, pid, offer)) is True
    stack.profiles.run(lambda r: deliver_offer(r, pid, "old", texts={"en": {"title": "Old"}},
                                               expires_ms=1000))  # long expired
    data = visitor.get("/_edge/api/inbox").json()
    assert data["unread"] == 1
    assert [(o["id"], o["title"], o["read"]) for o in data["offers"]] == \
        [("RUN15", "15 % Rabatt", False)]
    assert data["offers"][0]["expires"] == 4_102_444_800_000
    read = visitor.post("/_edge/api/inbox/offers/RUN15/read").json()
    assert read["unread"] == 0 and read["offers"][0]["read"] is True
    assert visitor.post("/_edge/api/inbox/offers/NOPE/read").status_code == 404
    assert visitor.delete("/_edge/api/inbox/offers/RUN15").json()["offers"] == []
    # the rule fires again on the next page: the deleted offer stays deleted
    assert stack.profiles.run(lambda r: deliver_decided(r, pid, offer)) is False
    assert visitor.get("/_edge/api/inbox").json()["offers"] == []
    assert visitor.delete("/_edge/api/inbox/offers/RUN15").status_code == 404


def test_another_visitor_cannot_touch_this_inbox(stack: Stack, visitor: httpx.Client) -> None:
    pid = _profile_id(stack, visitor)
    stack.profiles.run(lambda r: deliver_offer(r, pid, "mine", texts={"en": {"title": "Mine"}}))
    with httpx.Client(base_url=stack.edge, timeout=10) as stranger:
        assert stranger.get("/_edge/api/inbox").json()["offers"] == []
        assert stranger.post("/_edge/api/inbox/offers/mine/read").status_code == 404
    forged = {stack.settings.cookie_name: pid}  # an unsigned id is a new visitor
    with httpx.Client(base_url=stack.edge, timeout=10, cookies=forged) as forger:
        assert forger.get("/_edge/api/inbox").json()["offers"] == []
    assert visitor.get("/_edge/api/inbox").json()["unread"] == 1



def test_writes_from_foreign_pages_are_refused(stack: Stack, visitor: httpx.Client) -> None:
    pid = _profile_id(stack, visitor)
    stack.profiles.run(lambda r: deliver_offer(r, pid, "csrf", texts={"en": {"title": "T"}}))
    # a bodiless POST and a text/plain body need no CORS preflight: the Origin decides
    evil = {"origin": "https://evil.example"}
    assert visitor.post("/_edge/api/inbox/offers/csrf/read", headers=evil).status_code == 403
    sneaky = visitor.post("/_edge/api/inbox/wishlist", content=b'{"sku": "SKU-1"}',
                          headers={**evil, "content-type": "text/plain"})
    assert sneaky.status_code == 403 and sneaky.json()["field"] == "origin"
    data = visitor.get("/_edge/api/inbox").json()
    assert data["unread"] == 1 and data["wishlist"] == []
    # the shop's own pages and the configured embedders may write
    own = {"origin": stack.edge}
    assert visitor.post("/_edge/api/inbox/offers/csrf/read", headers=own).status_code == 200
    embedder = {"origin": stack.embedder}
    r = visitor.post("/_edge/api/inbox/wishlist", json={"sku": "SKU-1"}, headers=embedder)
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == stack.embedder
