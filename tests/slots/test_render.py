"""Splicing: bytes outside the slots stay, fills are encoded for the page, odd fills and odd
pages never break anything."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge.slots import SlotPlanner, build_plan, render
from edge.slots.plan import MAX_PAGE_BYTES
from edge.slots.render import codec_for

PAGE = (b"<!doctype html><html><head><title>t</title></head><body><header>top</header>"
        b'<div id="x" data-edge-slot="hero">default <b>x</b></div><footer>end</footer>'
        b"</body></html>")


def test_nothing_to_splice_returns_the_body_itself() -> None:
    plan = build_plan(PAGE)
    assert render(PAGE, plan, {}, "", "utf-8") is PAGE
    assert render(PAGE, plan, {"other": "<i>x</i>"}, "", "utf-8") is PAGE


def test_bytes_outside_the_slot_are_copied_unchanged() -> None:
    plan = build_plan(PAGE)
    (occ,) = plan.occurrences
    out = render(PAGE, plan, {"hero": "<p>Hi</p>"}, "<script src=/e.js></script>", "utf-8")
    assert out == (PAGE[:occ.start] + b"<p>Hi</p>" + PAGE[occ.end:plan.body_end] +
                   b'<div data-edge-end=""><script src=/e.js></script></div>' +
                   PAGE[plan.body_end:])
    assert PAGE[occ.start:occ.end] == b"default <b>x</b>"


def test_fills_use_the_page_charset_with_character_references() -> None:
    page = ('<html><head><meta charset="windows-1250"></head><body>'
            '<div data-edge-slot="a">Výchozí</div></body></html>').encode("cp1250")
    plan = build_plan(page)
    assert plan.charset == "cp1250"
    out = render(page, plan, {"a": "<p>Žluťoučký kůň ☃ 😀</p>"}, "", plan.charset)
    assert "<p>Žluťoučký kůň &#9731; &#128512;</p>".encode("cp1250") in out
    assert out.decode("cp1250").count("Výchozí") == 0


@pytest.mark.parametrize("encoding", [None, "utf-16", "x-no-such-charset", "iso-2022-jp"])
def test_unknown_or_wide_charsets_fall_back_to_ascii_references(encoding: str | None) -> None:
    plan = build_plan(PAGE)
    out = render(PAGE, plan, {"hero": "<p>Žluť ☃</p>"}, "", encoding)
    assert b"<p>&#381;lu&#357; &#9731;</p>" in out
    assert codec_for(encoding) == "ascii"


def test_utf16_pages_get_no_slots() -> None:
    for page in ("\ufeff" + PAGE.decode()).encode("utf-16-le"), PAGE.decode().encode("utf-16"):
        plan = build_plan(page)
        assert plan.slots == () and plan.body_end is None
        assert render(page, plan, {"hero": "<p>x</p>"}, "<p>y</p>", "utf-8") is page


@pytest.mark.parametrize("fill", [
    "<div>open",
    "</div>",
    "close</div><div>",
    "<b><i>x</b></i>",
    "<li>item</li>",
    "<dd>definition</dd>",
    "<dl><div><dt>term</dt></div></dl>",
    "<td>cell</td>",
    "<tr><td>x</td></tr>",
    "<table>text<tr><td>x</td></tr></table>",
    "<!-- unclosed",
    "<script>never closed",
    "<style>",
    "<body class=x>",
    "<html>",
    "<p>a<div>b</div></p>",
    "<a href=#>x<a href=#>y</a></a>",
    "<form><form></form></form>",
    "<svg><div>x</div></svg>",
    "<plaintext>",
    "<div",
    "<script>var s = '</script>';</script>",
])
def test_fills_that_are_not_self_contained_are_dropped(fill: str) -> None:
    plan = build_plan(PAGE)
    assert render(PAGE, plan, {"hero": fill}, "", "utf-8") is PAGE
    assert render(PAGE, plan, {}, fill, "utf-8") is PAGE


@pytest.mark.parametrize("fill", [
    "plain text & more",
    "<p>x</p><p>y</p>",
    "<img src=x.png alt='a > b'><br><hr/>",
    "<ul><li>a</li><li>b</li></ul>",
    "<table><tr><td>x</td></tr></table>",
    '<svg viewBox="0 0 1 1"><path d="M0 0"/><circle r="1"></circle></svg>',
    "<!-- note --><script>if (a < b && c > d) {}</script><style>p > b {}</style>",
    "<div><span><a href='/x?a=1&amp;b=2'>link</a></span></div>",
    "<select><option>1</option></select><textarea></div></textarea>",
])
def test_self_contained_fills_are_spliced(fill: str) -> None:
    plan = build_plan(PAGE)
    out = render(PAGE, plan, {"hero": fill}, "", "utf-8")
    assert fill.encode() in out


def test_fills_that_are_not_text_are_ignored() -> None:
    plan = build_plan(PAGE)
    assert render(PAGE, plan, {"hero": None}, "", "utf-8") is PAGE  # type: ignore[dict-item]
    assert render(PAGE, plan, {"hero": b"<p>x</p>"}, "", "utf-8") is PAGE  # type: ignore[dict-item]


@pytest.mark.parametrize("page", [
    b"",
    b"\x00\x01\x02\xff\xfe",
    b"\xff\xd8\xff\xe0 data-edge-slot \x00<div data-edge-slot=a>",
    b"<div data-edge-slot=a",
    b"<div data-edge-slot=a>" * 5000,
    b"<<<>>> </ <! <? <div data-edge-slot='a' data-edge-slot=b>x</div> </body",
    b"<div data-edge-slot=a>" + b"<div>" * 3000 + b"x" + b"</div>" * 3001,
    b"<body>" + b"<p>filler</p>" * 100_000 + b"<div data-edge-slot=a>x</div></body>",
])
def test_odd_pages_never_break(page: bytes) -> None:
    plan = SlotPlanner().plan(page)
    assert render(page, plan, {}, "", "utf-8") is page
    out = render(page, plan, {"a": "<p>x</p>", "b": "<p>y</p>"}, "<i>z</i>", None)
    assert isinstance(out, bytes)


def test_pages_over_the_size_limit_are_not_planned() -> None:
    page = b"<body><div data-edge-slot=a>x</div>" + b" " * MAX_PAGE_BYTES + b"</body>"
    plan = build_plan(page)
    assert plan.slots == () and plan.body_end is None
    assert render(page, plan, {"a": "<p>x</p>"}, "<i>z</i>", None) is page


def test_a_plan_for_another_page_is_not_applied() -> None:
    plan = build_plan(PAGE)
    other = b"<p>short</p>"
    assert render(other, plan, {"hero": "<p>x</p>"}, "<i>z</i>", None) is other


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from([
    "<div>", "</div>", "<p>", "</p>", "<b>", "</b>", "<table>", "<tr>", "<td>", "</table>",
    "<!--", "-->", "<script>", "</script>", "<svg>", "</svg>", "text", "&amp;", "<li>", "</body>",
    '<div data-edge-slot="a">', '<span data-edge-slot="b">', "<select>", "<template>", "'", '"',
    "<a href=x>", "</a>", "<frameset>", "<plaintext>", "\x00", "é",
]), max_size=30))
def test_random_markup_never_breaks(parts: list[str]) -> None:
    page = "".join(parts).encode()
    plan = SlotPlanner(cache_size=0).plan(page)
    assert render(page, plan, {}, "", "utf-8") is page
    assert isinstance(render(page, plan, {"a": "<p>x</p>", "b": "y"}, "<i>z</i>", "utf-8"), bytes)
    for occ in plan.occurrences:
        assert 0 <= occ.start <= occ.end <= len(page)
