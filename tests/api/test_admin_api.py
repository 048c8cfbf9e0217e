"""The admin API: identify, imports, profile export and deletion."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from edge.store import keys
from edge.store.catalog import load_catalog
from tests.api.conftest import ADMIN

EVENTS = "/_edge/api/events"


async def anonymous_visitor(client: httpx.AsyncClient) -> tuple[str, str]:
    """A visitor who liked a product; returns (visitor id, cookie value)."""
    r = await client.post(EVENTS, json={"events": [{"type": "like", "sku": "A"}]})
    assert r.status_code == 200
    value = client.cookies["edge_vid"]
    client.cookies.clear()
    return value.split(".")[1], value


@pytest.mark.parametrize(("method", "path"), [
    ("POST", "/_edge/api/identify"), ("POST", "/_edge/api/import/contacts"),
    ("POST", "/_edge/api/import/catalog"), ("GET", "/_edge/api/profiles/abc"),
    ("DELETE", "/_edge/api/profiles/abc"),
])
@pytest.mark.parametrize("auth", [None, "Bearer wrong", "admin-token-for-tests", "Basic x"])
async def test_admin_routes_need_the_token(
    client: httpx.AsyncClient, method: str, path: str, auth: str | None
) -> None:
    headers = {"authorization": auth} if auth else {}
    r = await client.request(method, path, headers=headers, content=b"{}")
    assert r.status_code == 401 and "admin token" in r.json()["error"]


async def test_identify_merges_the_visitor_into_the_contact(
    client: httpx.AsyncClient, redis: Any
) -> None:
    vid, cookie = await anonymous_visitor(client)
    r = await client.post("/_edge/api/identify", headers=ADMIN, json={
        "cookie": cookie, "contact_id": "c-1", "email": "ann@example.com",
        "attributes": {"first_name": "Anna"}})
    assert r.status_code == 200 and r.json() == {"profile_id": vid, "result": "claimed"}
    other, _ = await anonymous_visitor(client)
    r = await client.post("/_edge/api/identify", headers=ADMIN,
                          json={"visitor_id": other, "email": "ANN@example.com"})
    assert r.json() == {"profile_id": vid, "result": "merged"}
    r = await client.get(f"/_edge/api/profiles/{other}", headers=ADMIN)  # the alias resolves
    data = r.json()
    assert data["id"] == vid and data["contact_id"] == "c-1" and data["known"]
    assert data["attributes"] == {"first_name": "Anna"} and data["likes"] == ["A"]
    assert sorted(data["visitor_ids"]) == sorted([other])


@pytest.mark.parametrize(("body", "field"), [
    ({"visitor_id": "abc"}, "contact_id"),
    ({"contact_id": "c-1"}, "visitor_id"),
    ({"cookie": "v1.forged.1.x", "contact_id": "c-1"}, "cookie"),
    ({"visitor_id": "../x", "contact_id": "c-1"}, "visitor_id"),
    ({"visitor_id": "abc", "email": "nope"}, "email"),
    ({"visitor_id": "abc", "contact_id": "c", "role": "admin"}, "role"),
])
async def test_identify_refuses_bad_bodies(
    client: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    r = await client.post("/_edge/api/identify", headers=ADMIN, json=body)
    assert r.status_code == 400 and r.json()["field"] == field


async def test_identify_never_merges_two_contacts(client: httpx.AsyncClient) -> None:
    vid, _ = await anonymous_visitor(client)
    await client.post("/_edge/api/identify", headers=ADMIN,
                      json={"visitor_id": vid, "contact_id": "ann"})
    r = await client.post("/_edge/api/identify", headers=ADMIN,
                          json={"visitor_id": vid, "contact_id": "bob"})
    assert r.status_code == 409


async def test_export_and_delete(client: httpx.AsyncClient, redis: Any) -> None:
    vid, cookie = await anonymous_visitor(client)
    await client.post("/_edge/api/identify", headers=ADMIN,
                      json={"cookie": cookie, "contact_id": "c-5", "email": "e@example.com"})
    r = await client.get(f"/_edge/api/profiles/{vid}", headers=ADMIN)
    assert r.status_code == 200 and r.json()["email"] == "e@example.com"
    r = await client.delete(f"/_edge/api/profiles/{vid}", headers=ADMIN)
    assert r.status_code == 200 and r.json() == {"deleted": vid}
    assert [k for k in await redis.keys("edge:*") if not k.startswith(b"edge:rl:")] == []
    assert (await client.get(f"/_edge/api/profiles/{vid}", headers=ADMIN)).status_code == 404
    assert (await client.delete(f"/_edge/api/profiles/{vid}", headers=ADMIN)).status_code == 404
    assert (await client.get("/_edge/api/profiles/a%20b", headers=ADMIN)).status_code == 404
    # the deleted visitor's cookie now stands for an empty, anonymous profile
    client.cookies.set("edge_vid", cookie)
    r = await client.post(EVENTS, json={"events": [{"type": "like", "sku": "B"}]})
    assert r.json()["visitor"]["known"] is False


async def _chunks(lines: list[str]) -> AsyncIterator[bytes]:
    # a streamed body, with lines split across chunks
    data = "\n".join(lines).encode()
    for i in range(0, len(data), 7):
        yield data[i:i + 7]


async def test_catalog_import_streams_and_reports_bad_rows(
    client: httpx.AsyncClient, redis: Any
) -> None:
    good = {"sku": "A1", "name": "Lamp", "url": "/a1", "price": 99.5, "currency": "PLN",
            "category": "home/lamps", "attributes": {"color": "red"}, "stock": 3,
            "created_at": "2026-09-01"}
    lines = [json.dumps(good), "{broken", json.dumps({**good, "sku": "A2", "stock": -1}),
             json.dumps({**good, "sku": "A3"})]
    r = await client.post("/_edge/api/import/catalog?format=jsonl", headers=ADMIN,
                          content=_chunks(lines))
    assert r.status_code == 200
    report = r.json()
    assert (report["imported"], report["failed"]) == (2, 2)
    assert [row["line"] for row in report["bad_rows"]] == [2, 3]
    assert [p["sku"] for p in await load_catalog(redis)] == ["A1", "A3"]
    r = await client.post("/_edge/api/import/catalog?format=xml", headers=ADMIN, content=b"")
    assert r.status_code == 400 and r.json()["field"] == "format"


async def test_contacts_import_csv(client: httpx.AsyncClient, redis: Any) -> None:
    lines = ["contact_id,email,first_name,points,tier,fact_test_drive_date",
             "c-1,ann@example.com,Anna,120,silver,2026-12-01",
             "c-2,not-an-email,Bob,,,",
             ",,Nobody,,,"]
    r = await client.post("/_edge/api/import/contacts?format=csv", headers=ADMIN,
                          content=_chunks(lines))
    assert r.status_code == 200
    assert r.json()["imported"] == 1 and [b["line"] for b in r.json()["bad_rows"]] == [3, 4]
    pid = (await redis.get(keys.contact_key("c-1"))).decode()
    data = (await client.get(f"/_edge/api/profiles/{pid}", headers=ADMIN)).json()
    assert data["facts"] == {"test_drive_date": "2026-12-01"}
    assert data["loyalty"]["points"] == 120 and data["attributes"]["first_name"] == "Anna"
