"""Serving the widget script, the script tag, CORS for embedders and the slots API (real server)."""

from __future__ import annotations

import gzip
import html
import json
import re
from collections.abc import Iterator

import brotli
import httpx
import pytest

from edge.api.embed import IMMUTABLE, script, script_tag
from edge.app import create_app
from edge.page import Fills, StaticPersonalizer
from edge.settings import Settings
from tests.browser.stack import add_routes
from tests.support.servers import serve

SHOP = "https://shop.example"
FILLS = Fills(slots={"hero": "<p>hello</p>", "other": "<p>not asked</p>"},
              body_end="<div id=end></div>")


@pytest.fixture(scope="module")
def edge() -> Iterator[str]:
    settings = Settings(origin="http://127.0.0.1:9", cors_origins=(SHOP,))
    app = create_app(settings, lambda state: StaticPersonalizer(FILLS), use_redis=False)
    add_routes(app)
    with serve(app) as url:
        yield url


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as c:
        yield c


def test_versioned_script_is_immutable_and_compressed(edge: str, client: httpx.Client) -> None:
    s = script()
    r = client.get(edge + s.path, headers={"accept-encoding": "identity"})
    assert r.status_code == 200
    assert r.headers["cache-control"] == IMMUTABLE
    assert r.headers["content-type"].startswith("text/javascript")
    assert r.content == s.body
    assert re.fullmatch(r"/_edge/static/edge\.[0-9a-f]{16}\.js", s.path)
    gz = client.get(edge + s.path, headers={"accept-encoding": "gzip"})
    assert gz.headers["content-encoding"] == "gzip"
    assert gz.content == s.body  # httpx decodes: the bytes on the wire were gzip
    raw = client.send(client.build_request("GET", edge + s.path,
                                           headers={"accept-encoding": "br"}), stream=True)
    try:
        assert raw.headers["content-encoding"] == "br"
        assert brotli.decompress(b"".join(raw.iter_raw())) == s.body
    finally:
        raw.close()
    assert len(gzip.compress(s.body, 9)) <= 12 * 1024  # the size budget, gzipped
    again = client.get(edge + s.path, headers={"if-none-match": f'"{s.hash}"'})
    assert again.status_code == 304


def test_stale_hash_and_embed_url_get_a_short_cache(edge: str, client: httpx.Client) -> None:
    old = client.get(edge + "/_edge/static/edge.0000000000000000.js")
    assert old.status_code == 200 and "immutable" not in old.headers["cache-control"]
    embed = client.get(edge + "/_edge/edge.js")
    assert embed.status_code == 200
    assert embed.headers["cache-control"] == "public, max-age=300"
    assert embed.content == script().body


def test_script_tag_carries_escaped_config() -> None:
    settings = Settings(origin="http://127.0.0.1:9", default_language="pl", fingerprint=True)
    tag = script_tag(settings, note="it's <b>")
    m = re.fullmatch(r'<script src="([^"]+)" defer data-edge-config=\'([^\']*)\'></script>', tag)
    assert m, tag
    assert m.group(1) == script().path
    config = json.loads(html.unescape(m.group(2)))
    assert config == {"lang": "pl", "currency": "PLN", "fingerprint": True, "note": "it's <b>"}
    refused = script_tag(settings, fingerprint=False, inbox=False, language="de")
    config = json.loads(html.unescape(refused.split("data-edge-config='")[1].rsplit("'", 1)[0]))
    assert config["fingerprint"] is False and config["inbox"] is False and config["lang"] == "de"


def test_cors_preflight_only_for_configured_origins(edge: str, client: httpx.Client) -> None:
    ok = client.options(edge + "/_edge/api/events", headers={
        "origin": SHOP, "access-control-request-method": "POST",
        "access-control-request-headers": "content-type"})
    assert ok.status_code == 204
    assert ok.headers["access-control-allow-origin"] == SHOP
    assert ok.headers["access-control-allow-credentials"] == "true"
    assert "POST" in ok.headers["access-control-allow-methods"]
    assert "content-type" in ok.headers["access-control-allow-headers"]
    bad = client.options(edge + "/_edge/api/events", headers={
        "origin": "https://evil.example", "access-control-request-method": "POST"})
    assert bad.status_code == 403
    assert "access-control-allow-origin" not in bad.headers


def test_slots_api_fills_only_asked_slots_with_cors(edge: str, client: httpx.Client) -> None:
    r = client.get(edge + "/_edge/api/slots", params={
        "url": SHOP + "/p/1?x=1", "slots": "hero,missing", "f.page-type": "product"},
        headers={"origin": SHOP})
    assert r.status_code == 200
    assert r.json() == {"slots": {"hero": "<p>hello</p>"}, "body_end": "<div id=end></div>"}
    assert r.headers["access-control-allow-origin"] == SHOP
    assert r.headers["cache-control"] == "private, no-store"
    foreign = client.get(edge + "/_edge/api/slots", params={"url": SHOP + "/", "slots": "hero"},
                         headers={"origin": "https://evil.example"})
    assert "access-control-allow-origin" not in foreign.headers


@pytest.mark.parametrize("params, field", [
    ({"url": "javascript:alert(1)", "slots": "hero"}, "url"),
    ({"url": "/relative", "slots": "hero"}, "url"),
    ({"url": SHOP + "/", "slots": "bad slot!"}, "slots"),
    ({"url": SHOP + "/", "slots": ",".join(f"s{i}" for i in range(40))}, "slots"),
])
def test_slots_api_rejects_bad_input(edge: str, client: httpx.Client,
                                     params: dict[str, str], field: str) -> None:
    r = client.get(edge + "/_edge/api/slots", params=params)
    assert r.status_code == 400
    assert r.json()["field"] == field
