"""The slot rules, one by one (see edge/slots/__init__.py)."""

from __future__ import annotations

import pytest

from edge.slots import SlotPlan, SlotPlanner, has_marker, render
from tests.slots.trees import dump, is_injected, parse, slot_in

FILL = '<div data-edge-injected="">new</div>'


def plan(html: str | bytes, verify: bool = True) -> SlotPlan:
    body = html.encode() if isinstance(html, str) else html
    return SlotPlanner(verify=verify, cache_size=0).plan(body)


def reasons(p: SlotPlan, name: str) -> list[str]:
    return [why for n, why in p.rejected if n == name]


def assert_same_outside(html: str, fills: dict[str, str], body_end: str = "") -> bytes:
    """Render and check with html5lib that nothing outside the filled slots changed."""
    body = html.encode()
    p = plan(body)
    out = render(body, p, fills, body_end, "utf-8")

    filled = slot_in(fills)
    before = dump(parse(html, scripting=True), clear=filled)
    after = dump(parse(out.decode(), scripting=True), drop=is_injected, clear=filled)
    assert before == after
    return out


def test_has_marker_is_a_byte_scan() -> None:
    assert has_marker(b'<div data-edge-slot="a">x</div>')
    # Upper case is found by the planner, not by the quick scan.
    assert not has_marker(b'<DIV DATA-EDGE-SLOT="a">x</DIV>')
    assert plan('<DIV DATA-EDGE-SLOT="a">x</DIV>').slots == ("a",)
    assert not has_marker(b"<div>nothing here</div>")
    assert not has_marker(b"")


def test_a_slot_and_its_page_facts() -> None:
    p = plan('<!doctype html><html><head><meta charset="windows-1250">'
             '<title>\n  Boty &amp; kabelky  </title>'
             '<meta name="edge:page-type" content="product"><meta name="EDGE:sku" content="A1">'
             '<meta name="description" content="x"></head>'
             '<body><div class="x" data-edge-slot="hero">default</div></body></html>')
    assert p.slots == ("hero",)
    assert p.facts == {"page-type": "product", "sku": "A1"}
    assert p.title == "Boty & kabelky"
    assert p.charset == "cp1250"
    assert p.rejected == ()


def test_charset_from_http_equiv_and_none_without() -> None:
    p = plan('<meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-2">'
             "<div data-edge-slot=a>x</div>")
    assert p.charset == "iso8859-2"
    assert plan("<div data-edge-slot=a>x</div>").charset is None


def test_the_attribute_name_is_case_insensitive_and_the_value_must_not_be_empty() -> None:
    assert plan("<div Data-Edge-Slot='a'>x</div>").slots == ("a",)
    p = plan('<div data-edge-slot="">x</div><div data-edge-slot>y</div>')
    assert p.slots == ()
    assert p.rejected == (("", "empty slot name"), ("", "empty slot name"))


@pytest.mark.parametrize("html", [
    "<script>var s = '<div data-edge-slot=\"a\">x</div>';</script>",
    "<style>/* <div data-edge-slot=a>x</div> */</style>",
    "<textarea><div data-edge-slot=a>x</div></textarea>",
    "<title><div data-edge-slot=a>x</div></title>",
    "<xmp><div data-edge-slot=a>x</div></xmp>",
    "<iframe><div data-edge-slot=a>x</div></iframe>",
    "<noembed><div data-edge-slot=a>x</div></noembed>",
    "<noframes><div data-edge-slot=a>x</div></noframes>",
    "<noscript><div data-edge-slot=a>x</div></noscript>",
    "<plaintext><div data-edge-slot=a>x</div>",
    "<!-- <div data-edge-slot=a>x</div> -->",
    "<!DOCTYPE html data-edge-slot=a><p>x</p>",
    "<![CDATA[<div data-edge-slot=a>x</div>]]>",
    "<? <div data-edge-slot=a>x</div> ?>",
    '<div title="<div data-edge-slot=a>">x</div>',
    "<div title='<div data-edge-slot=\"a\">'>x</div>",
    "<p>Write data-edge-slot=a on your element</p>",
    "<template><div data-edge-slot=a>x</div></template>",
])
def test_markers_that_are_not_slots(html: str) -> None:
    body = f"<body>{html}<p>after</p></body>".encode()
    p = plan(body)
    assert p.slots == ()
    assert render(body, p, {"a": FILL}, "", "utf-8") is body


def test_a_marker_in_an_unquoted_attribute_value_belongs_to_the_outer_tag() -> None:
    # title=<div ends at the space: data-edge-slot is an attribute of <a>, a formatting element.
    p = plan("<a title=<div data-edge-slot=x>>link</a>")
    assert p.slots == ()
    assert reasons(p, "x")


@pytest.mark.parametrize(("html", "why"), [
    ("<img data-edge-slot=a src=x.png>", "void element"),
    ("<br data-edge-slot=a>", "void element"),
    ("<input data-edge-slot=a>", "void element"),
    ("<table data-edge-slot=a><tr><td>x</td></tr></table>", "table-structure"),
    ("<table><tr data-edge-slot=a><td>x</td></tr></table>", "table-structure"),
    ("<table><tbody data-edge-slot=a><tr><td>x</td></tr></tbody></table>", "table-structure"),
    ("<select data-edge-slot=a><option>x</option></select>", "select element"),
    ("<select><option data-edge-slot=a>x</option></select>", "select element"),
    ("<svg><g data-edge-slot=a></g></svg>", "SVG/MathML"),
    ("<svg><foreignObject><div data-edge-slot=a>x</div></foreignObject></svg>", "SVG/MathML"),
    ("<math><mi data-edge-slot=a>x</mi></math>", "SVG/MathML"),
    ("<b data-edge-slot=a>x</b>", "formatting element"),
    ("<p data-edge-slot=a>x</p>", "closed or split"),
    ("<h1 data-edge-slot=a>x</h1>", "closed or split"),
    ("<div data-edge-slot=a><b>x</div>", "end tag </div> does not match"),
    ("<div data-edge-slot=a>x", "end tag </body> does not match"),
    ("<section><div data-edge-slot=a>x</section>", "end tag </section> does not match"),
    ("<div data-edge-slot=a>x</span></div>", "end tag </span> does not match"),
    ("<div data-edge-slot=a><p>x</div>", "does not match"),
    ("<li data-edge-slot=a>x<li>y</li></li>", "<li> outside its parent"),
    ("<div data-edge-slot=a><p>x<div>y</div></p></div>", "inside <p> would close it"),
    ("<div data-edge-slot=a><!-- x</div>", "comment is not closed"),
    ("<div data-edge-slot=a><script>x</div>", "<script> is not closed"),
    ("<div data-edge-slot=a><body class=x></div>", "<body> is not allowed"),
    ("<table><tr><td>x</td></tr><div data-edge-slot=a>x</div></table>", "verification"),
    ("<table><tr><td>x</td></tr><div data-edge-slot=a>x</div><tr><td>y</td></tr></table>",
     "verification"),
    ("<p>text <span data-edge-slot=a>x</span> more</p>", "inside a <p>"),
    ("<a href=#><div data-edge-slot=a>x</div></a>", "inside a link"),
    ("<button><span data-edge-slot=a>x</span></button>", "inside a button"),
    ("<form data-edge-slot=a><input></form>", "form element"),
    ("<pre data-edge-slot=a>\nx</pre>", "verification"),
])
def test_refused_slots_keep_their_default(html: str, why: str) -> None:
    body = f"<body>{html}<p>after</p></body>".encode()
    p = plan(body)
    assert "a" not in p.slots
    assert any(why in r for r in reasons(p, "a")), p.rejected
    assert render(body, p, {"a": FILL}, "", "utf-8") is body


def test_a_slot_in_a_table_cell_or_list_is_fillable() -> None:
    out = assert_same_outside("<table><tr><td><div data-edge-slot=a>x</div></td></tr></table>"
                              "<ul data-edge-slot=b><li>1</li></ul><ul><li data-edge-slot=c>"
                              "x</li></ul>", {"a": FILL, "b": "<li>z</li>", "c": FILL})
    assert b"<td><div data-edge-slot=a>" + FILL.encode() + b"</div></td>" in out
    assert b"<ul data-edge-slot=b><li>z</li></ul>" in out


def test_a_slot_inside_a_form_takes_fills_without_a_form() -> None:
    # Some shop platforms wrap the whole page in one <form>.
    html = ('<body><form id="page"><div data-edge-slot=a>x</div><input name=q>'
            '<div data-edge-slot=b>y</div></form><p>after</p></body>')
    p = plan(html)
    assert p.slots == ("a", "b")
    body = html.encode()
    with_form = '<form data-edge-injected=""><input name=n></form>'
    assert render(body, p, {"a": with_form, "b": with_form}, "", "utf-8") is body
    assert_same_outside(html, {"a": FILL, "b": '<p data-edge-injected=""><button>b</button></p>'})


def test_verify_off_trusts_the_structural_checks() -> None:
    # The div is foster-parented out of the table: only the probe parse notices.
    html = "<table><tr><td>x</td></tr><div data-edge-slot=a>x</div><tr><td>y</td></tr></table>"
    assert "a" not in plan(html).slots
    assert plan(html, verify=False).slots == ("a",)


def test_nested_slots_outer_fill_replaces_inner() -> None:
    html = ("<body><div data-edge-slot=outer>a<section data-edge-slot=inner>b</section>c</div>"
            "</body>")
    p = plan(html)
    assert p.slots == ("outer", "inner")
    out = render(html.encode(), p, {"outer": "<i>O</i>", "inner": "<i>I</i>"}, "", "utf-8")
    assert out == b"<body><div data-edge-slot=outer><i>O</i></div></body>"
    out = render(html.encode(), p, {"inner": "<i>I</i>"}, "", "utf-8")
    assert out == (b"<body><div data-edge-slot=outer>a<section data-edge-slot=inner><i>I</i>"
                   b"</section>c</div></body>")
    assert_same_outside(html, {"inner": FILL})


def test_duplicate_names_get_the_same_fill() -> None:
    html = "<div data-edge-slot=d>1</div><p>mid</p><div data-edge-slot=d>2</div>"
    p = plan(html)
    assert p.slots == ("d",)
    assert len(p.occurrences) == 2
    out = assert_same_outside(html, {"d": FILL})
    assert out.count(FILL.encode()) == 2


def test_body_end_goes_before_the_last_real_body_end_tag() -> None:
    html = "<html><body><p>x</p><script>var s = '</body>';</script></body></html>"
    p = plan(html)
    assert p.body_end == html.rindex("</body>")
    out = assert_same_outside(html, {}, '<div data-edge-injected="">pop</div>')
    # In a wrapper div, so that formatting elements left open on the page are not reopened
    # around it.
    assert out.endswith(b'<div data-edge-end=""><div data-edge-injected="">pop</div></div>'
                        b"</body></html>")


def test_body_end_after_unclosed_formatting_elements() -> None:
    html = "<body><p><b>bold <i>both</p>text</body>"
    assert_same_outside(html, {}, "<span>pop-up</span> and text")


@pytest.mark.parametrize(("html", "where"), [
    ("<html><body><p>x</p></html>", "</html>"),
    ("<p>x</p>", None),
])
def test_body_end_without_a_body_end_tag(html: str, where: str | None) -> None:
    p = plan(html)
    assert p.body_end == (html.rindex(where) if where else len(html))
    assert_same_outside(html, {}, '<div data-edge-injected="">pop</div>')


@pytest.mark.parametrize("html", [
    "<html><frameset><frame src=a></frameset></html>",
    "<body><p>x</p><script>var a = 1;",
    "<body><p>x</p><!-- unclosed",
    "<body><p>x</p><plaintext>rest",
    "<body><select><option>x",
    "<body><table><tr><td>x</td></tr>",
])
def test_no_body_end_where_an_injection_would_not_be_html_in_the_body(html: str) -> None:
    body = html.encode()
    p = plan(body)
    assert p.body_end is None
    assert render(body, p, {}, "<div>x</div>", "utf-8") is body


def test_plans_are_cached_per_body() -> None:
    planner = SlotPlanner(cache_size=2)
    a, b, c = (f"<div data-edge-slot={n}>x</div>".encode() for n in "abc")
    first = planner.plan(a)
    assert planner.plan(a) is first
    planner.plan(b)
    planner.plan(c)  # evicts a
    assert planner.plan(a) is not first
    assert planner.plan(a) == first


def test_slot_names_and_facts_are_read_in_the_page_charset() -> None:
    page = ('<meta charset="windows-1250"><title>Výprodej &ndash; boty</title>'
            '<meta name="edge:category" content="Dámské boty">'
            '<div data-edge-slot="výprodej">Sleva</div>').encode("cp1250")
    p = plan(page)
    assert p.slots == ("výprodej",)
    assert p.title == "Výprodej – boty"
    assert p.facts == {"category": "Dámské boty"}
    out = render(page, p, {"výprodej": "<b>Léto ☃</b>"}, "", p.charset)
    assert "<b>Léto &#9731;</b>".encode("cp1250") in out


def test_markers_with_entities_and_odd_quoting() -> None:
    p = plan("<div data-edge-slot='a&amp;b' title=\"x > y\">1</div>"
             "<section class=a data-edge-slot=c/>2</section><div/data-edge-slot=d>3</div>"
             "<div\ndata-edge-slot\n=\n'e'>4</div>")
    assert p.slots == ("a&b", "c/", "d", "e")
