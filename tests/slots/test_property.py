"""Random markup soup with well-formed slots in it: whatever the planner accepts, filled with
any widget shape, leaves the html5lib tree unchanged outside the slots."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge.slots import SlotPlanner, render
from tests.slots.fills import FILLS
from tests.slots.trees import dump, is_injected, parse, slot_in

SOUP = ["<div>", "</div>", "<p>", "</p>", "<b>", "</b>", "<i>", "</i>", "<table>", "<tr>", "<td>",
        "</td>", "</tr>", "</table>", "<!--", "-->", "<script>", "</script>", "<svg>", "</svg>",
        "text", "&amp;", "<ul>", "<li>", "</li>", "</ul>", "</body>", "<span>", "</span>",
        "<a href=x>", "</a>", "<form>", "</form>", "<h1>", "</h1>", "<br>", "<img>", "<button>",
        "</button>", "<pre>", "\n", " ", "<dl>", "<dd>", "<dt>", "<nobr>", "<font>", "</font>",
        "<textarea>", "</textarea>", "<title>", "<style>", "</style>", "<math>", "</math>",
        "<hr>", "<section>", "</section>", "<caption>", "<colgroup>", "<select>", "<option>",
        "<object>", "</object>", "<marquee>", "<label>", "</label>", "<head>", "<body>",
        "<html>", "<frameset>", "<noscript>", "</noscript>", "<iframe>", "</iframe>",
        "<plaintext>", "<xmp>", "<listing>", "<input>", "<p><b>", "</b></p>"]
DEFAULTS = ["", "x", "<b>bold</b>", "<p>para</p>", "<ul><li>1</li></ul>",
            "<table><tr><td>c</td></tr></table>", "<!-- c -->", "<script>s</script>",
            "\ntext\n", "<span>s</span>", "<img>"]
SLOTS = [("div", "a"), ("section", "b"), ("span", "c"), ("li", "d"), ("td", "e"),
         ("article", "f"), ("ul", "g"), ("dd", "h"), ("main", "i")]
slot = st.tuples(st.sampled_from(SLOTS), st.sampled_from(DEFAULTS)).map(
    lambda t: f'<{t[0][0]} data-edge-slot="{t[0][1]}">{t[1]}</{t[0][0]}>')


@settings(max_examples=400, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(st.lists(st.one_of(st.sampled_from(SOUP), slot), max_size=25),
       st.sampled_from(FILLS))
def test_accepted_slots_never_change_the_page_around_them(parts: list[str], fill: str) -> None:
    page = "".join(parts)
    body = page.encode()
    plan = SlotPlanner(cache_size=0).plan(body)
    out = render(body, plan, {name: fill for name in plan.slots}, fill, "utf-8")
    if not plan.slots and plan.body_end is None:
        assert out is body
        return
    filled = slot_in(set(plan.slots))
    expected = dump(parse(page, scripting=True), clear=filled)
    assert dump(parse(out.decode(), scripting=True), drop=is_injected, clear=filled) == expected
