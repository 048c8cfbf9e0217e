"""Fills remembered for visitors met on this request (``edge.fresh``): the same fills as made
afresh, each visitor's own experiment arm, and never past a schedule's boundary."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import edge.personalize
from edge.fresh import boundaries, valid_until
from edge.page import Page, RequestHead
from edge.personalize import EdgePersonalizer, EdgeSession
from edge.store.identity import Identity, Visitor
from edge.store.profile import Profile
from edge.store.signing import new_visitor_id
from edge.store.store import Store
from tests.store.factories import make_settings

START = 2_000_000_000.5  # a schedule boundary half-way through a second
RULES = f"""
experiments:
  - id: copy
    seed: copy-1
    variants:
      - {{id: plain, weight: 1, params: {{headline: "Plain copy"}}}}
      - {{id: bold, weight: 1, params: {{headline: "Bold copy"}}}}
    control: 0.34
segments:
  - id: from_search
    when: {{session: {{referrer: {{glob: "*search*"}}}}}}
placements:
  - {{id: phone, slot: hero, widget: banner, priority: 60, when: {{device: mobile}},
     params: {{headline: "On your phone"}}}}
  - {{id: spring, slot: hero, widget: banner, priority: 50,
     when: {{session: {{utm_campaign: spring}}}}, params: {{headline: "Spring campaign"}}}}
  - {{id: searchers, slot: hero, widget: banner, priority: 40, segments: [from_search],
     params: {{headline: "Found us"}}}}
  - {{id: launch, slot: hero, widget: banner, priority: 30,
     starts: "{datetime.fromtimestamp(START, UTC).isoformat()}", params: {{headline: "Launched"}}}}
  - {{id: german, slot: note, widget: banner, when: {{language: de}},
     params: {{headline: "Willkommen"}}}}
  - {{id: tested, slot: hero, widget: banner, priority: 20, experiment: copy,
     params: {{headline: "Default copy"}}}}
  - {{id: welcome, slot: hero, widget: banner, priority: 10, when: {{page: {{type: home}}}},
     params: {{headline: "Welcome"}}}}
"""

PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148"
DESKTOP = "Mozilla/5.0 (X11; Linux x86_64) Firefox/120"


@pytest.fixture
async def owner(redis: Any, redis_handle: Any, tmp_path: Path) -> AsyncIterator[Any]:
    (tmp_path / "rules.yaml").write_text(RULES)
    settings = make_settings(rules_dir=str(tmp_path), default_language="en",
                             languages=("en", "de", "pl"))
    state = SimpleNamespace(settings=settings, redis=redis, redis_handle=redis_handle,
                            identity=Identity(settings, redis), store=Store(redis, settings))
    personalizer = EdgePersonalizer(state)
    yield personalizer
    await personalizer.aclose()


def _request(rng: random.Random) -> RequestHead:
    headers = {"user-agent": rng.choice([PHONE, DESKTOP, DESKTOP]),
               "accept-language": rng.choice(["en-GB,en;q=0.9", "de-DE,de;q=0.9", "pl"])}
    if rng.random() < 0.3:
        headers["referer"] = rng.choice(["https://search.example/?q=shoes",
                                         "https://blog.example/"])
    query = rng.choice(["", "", "utm_campaign=spring", "utm_campaign=autumn"])
    return RequestHead("GET", rng.choice(["/", "/p/1"]), query, headers, "203.0.113.9",
                       host="shop.test")


def _page(request: RequestHead) -> Page:
    home = request.path == "/"
    return Page(request, 200, ("hero", "note"), {"page-type": "home" if home else "product"})


async def _fill(owner: EdgePersonalizer, request: RequestHead, vid: str, *, fresh: bool,
                known: bool = False) -> tuple[dict[str, str], str, dict[str, Any]]:
    """The page's fills for the new visitor ``vid``: from the memo (``fresh``) or made."""
    profile: asyncio.Future[Profile] = asyncio.get_running_loop().create_future()
    profile.set_result(Profile.empty(vid))
    visitor = Visitor(id=vid, visitor_id=vid, known=known, is_new=True, via="new")
    session = EdgeSession(owner, request, visitor, profile, fresh=fresh)
    fills = await session.fill(_page(request))
    assert session.decision is not None
    return dict(fills.slots), fills.body_end, session.decision.to_dict()


async def test_remembered_fills_are_those_made_afresh_with_each_visitors_own_arm(
    owner: EdgePersonalizer,
) -> None:
    rng = random.Random(7)
    arms: set[str] = set()
    headlines: set[str] = set()
    for _ in range(150):
        # ids from the seeded generator too: which requests meet which arm is then fixed
        request, vid = _request(rng), rng.randbytes(16).hex()
        remembered = await _fill(owner, request, vid, fresh=True)
        assert remembered == await _fill(owner, request, vid, fresh=False)
        arms.update(remembered[2]["assignments"].values())
        headlines.update(s[s.index("<h2"):s.index("</h2>")] for s in remembered[0].values())
    assert arms == {"plain", "bold", "control"}
    assert len(headlines) >= 7  # every placement but the one not started yet was shown
    # Visitors met on the same kind of request shared an entry: far fewer entries than pages
    # (unless the test ran across a second's end, when the memo starts each entry again).
    assert 0 < len(owner.fresh._entries) < 120


async def test_a_remembered_fill_ends_at_a_schedule_boundary_within_its_second(
    owner: EdgePersonalizer, monkeypatch: pytest.MonkeyPatch,
) -> None:
    request = RequestHead("GET", "/", "", {"user-agent": DESKTOP}, "203.0.113.9",
                          host="shop.test")
    vid = new_visitor_id()  # one visitor, one experiment arm: only the clock moves
    shown, entries = [], []
    for now in (START - 0.3, START - 0.2, START + 0.1):  # one second: ….2, ….3, ….6
        monkeypatch.setattr(edge.personalize.time, "time", lambda now=now: now)
        slots, _, decision = await _fill(owner, request, vid, fresh=True)
        shown.append(decision["slots"]["hero"]["placement"])
        entries.append(len(owner.fresh._entries))
    assert shown[0] != "launch" and shown[1] == shown[0]
    assert entries[:2] == [1, 1]  # the second page was served from the first one's entry
    assert shown[2] == "launch"


async def test_a_known_visitors_fills_are_never_remembered(owner: EdgePersonalizer) -> None:
    request = _request(random.Random(1))
    await _fill(owner, request, new_visitor_id(), fresh=True, known=True)
    assert owner.fresh._entries == {}
    await _fill(owner, request, new_visitor_id(), fresh=True)
    assert len(owner.fresh._entries) == 1


async def test_replacing_what_every_visitor_shares_forgets_remembered_fills(
    owner: EdgePersonalizer,
) -> None:
    request = _request(random.Random(2))
    await _fill(owner, request, new_visitor_id(), fresh=True)
    assert len(owner.fresh._entries) == 1
    owner.shared.weights = {}  # the signals refresh replaces the weights whole
    await _fill(owner, request, new_visitor_id(), fresh=True)
    assert len(owner.fresh._entries) == 1  # started over, then this page's entry


def test_an_entry_holds_to_its_seconds_end_or_the_next_boundary() -> None:
    times = (100.5, 103.0)
    assert valid_until(99.2, times) == 100.0
    assert valid_until(100.2, times) == 100.5
    assert valid_until(100.5, times) == 101.0
    assert valid_until(102.9, times) == 103.0
    assert valid_until(104.0, times) == 105.0


def test_boundaries_are_every_schedule_expiry_and_experiment_end(owner: EdgePersonalizer) -> None:
    ruleset = owner.ruleset
    assert ruleset is not None
    assert boundaries(ruleset) == (START,)


async def test_a_new_visitors_page_view_is_queued_as_a_first_view(
    owner: EdgePersonalizer,
) -> None:
    request = _request(random.Random(3))
    for fresh in (True, False):
        vid = new_visitor_id()
        profile: asyncio.Future[Profile] = asyncio.get_running_loop().create_future()
        profile.set_result(Profile.empty(vid))
        visitor = Visitor(id=vid, visitor_id=vid, is_new=fresh, via="new" if fresh else "cookie")
        EdgeSession(owner, request, visitor, profile, fresh=fresh).finish(_page(request), 200)
        queued = owner.writes._queue[-1]
        assert (queued.pid, queued.page_view, queued.fresh) == (vid, True, fresh)
    await owner.writes.flush()
    assert owner.writes.written == 2 and owner.writes.failed == 0
