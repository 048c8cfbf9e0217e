"""Header rules, without a server: what goes to the origin and what comes back."""

from __future__ import annotations

from edge.headers import request_headers, response_facts, response_headers

ORIGIN = "http://127.0.0.1:9000"


def _request(raw: list[tuple[bytes, bytes]], policy: str = "origin"):  # type: ignore[no-untyped-def]
    return request_headers(
        raw, client_ip="10.0.0.9", scheme="https", origin_netloc="127.0.0.1:9000",
        host_policy=policy,
    )


def test_request_headers_in_one_pass() -> None:
    merged, forward, client_host = _request(
        [
            (b"Host", b"shop.example"),
            (b"Cookie", b"a=1"),
            (b"cookie", b"b=2"),
            (b"Accept", b"text/html"),
            (b"accept", b"*/*"),
            (b"X-Forwarded-For", b"1.1.1.1"),
            (b"x-forwarded-for", b"2.2.2.2"),
            (b"X-Forwarded-Proto", b"http"),
            (b"X-Forwarded-Host", b"evil.example"),
            (b"TE", b"trailers"),
            (b"Keep-Alive", b"timeout=5"),
        ]
    )
    assert client_host == "shop.example"
    assert merged["cookie"] == "a=1; b=2"
    assert merged["accept"] == "text/html, */*"
    assert merged["host"] == "shop.example"
    assert forward == [
        ("host", "127.0.0.1:9000"),
        ("cookie", "a=1"),
        ("cookie", "b=2"),
        ("accept", "text/html"),
        ("accept", "*/*"),
        ("x-forwarded-for", "1.1.1.1, 2.2.2.2, 10.0.0.9"),
        ("x-forwarded-proto", "https"),
        ("x-forwarded-host", "shop.example"),
    ]


def test_connection_names_more_hop_by_hop_headers() -> None:
    _, forward, _ = _request(
        [(b"host", b"a"), (b"connection", b"keep-alive, X-Secret"), (b"x-secret", b"1"),
         (b"connection", b"x-other"), (b"x-other", b"2"), (b"x-kept", b"3")]
    )
    names = [name for name, _ in forward]
    assert names == ["host", "x-kept", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"]


def test_host_policy_and_no_host() -> None:
    _, forward, _ = _request([(b"host", b"shop.example")], policy="preserve")
    assert forward[0] == ("host", "shop.example")
    merged, forward, client_host = _request([], policy="preserve")
    assert (merged, client_host) == ({}, "")
    assert forward == [
        ("host", "127.0.0.1:9000"),
        ("x-forwarded-for", "10.0.0.9"),
        ("x-forwarded-proto", "https"),
    ]


def test_response_headers_and_facts() -> None:
    out, facts = response_headers(
        [
            (b"Content-Type", b"text/html"),
            (b"Content-Type", b"text/plain"),
            (b"Transfer-Encoding", b"chunked"),
            (b"Location", b"http://127.0.0.1:9000/next?x=1"),
            (b"Cache-Control", b"public, max-age=60"),
            (b"Set-Cookie", b"a=1"),
        ],
        origin=ORIGIN,
        edge_base="https://shop.example",
    )
    assert out == [
        (b"content-type", b"text/html"),
        (b"content-type", b"text/plain"),
        (b"location", b"https://shop.example/next?x=1"),
        (b"cache-control", b"public, max-age=60"),
        (b"set-cookie", b"a=1"),
    ]
    assert facts == {b"content-type": b"text/html", b"cache-control": b"public, max-age=60"}
    assert response_facts(out) == facts


def test_response_connection_tokens_are_dropped_with_their_facts() -> None:
    out, facts = response_headers(
        [(b"Connection", b"Content-Encoding"), (b"Content-Encoding", b"gzip"),
         (b"Content-Length", b"10")],
        origin=ORIGIN,
        edge_base=None,
    )
    assert out == [(b"content-length", b"10")]
    assert facts == {b"content-length": b"10"}
