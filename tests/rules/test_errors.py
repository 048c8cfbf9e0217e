"""Bad rule files fail with messages that name the file, the rule and the field."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from rules.cli import check
from rules.errors import RuleError
from rules.load import load_dir

GOOD = """
segments:
  - id: vip
    when: {profile: {tier: gold}}
placements:
  - id: hero_vip
    slot: hero
    widget: banner
    segments: [vip]
"""

# (file name, content, file, rule, field, words in the message)
BAD = [
    ("a.yaml", "placements: [", "a.yaml", None, None, "not valid YAML at line 1"),
    ("a.toml", "[[placements]\nid = 1", "a.toml", None, None, "not valid TOML"),
    ("a.yaml", "- just a list", "a.yaml", None, None, "must hold a mapping"),
    ("a.yaml", "rulez: []", "a.yaml", None, "rulez", "unknown top-level key"),
    ("a.yaml", "placements: {id: x}", "a.yaml", None, "placements", "expected a list"),
    ("a.yaml", "placements: [{slot: hero}]", "a.yaml", None, "placements[0].id", "needs an id"),
    ("a.yaml", "placements: [{id: p, widget: banner}]", "a.yaml", "p", "kind",
     "which kind of placement"),
    ("a.yaml", "placements: [{id: p, kind: banner}]", "a.yaml", "p", "kind", "expected one of"),
    ("a.yaml", "placements: [{id: p, slot: hero}]", "a.yaml", "p", "widget", "required"),
    ("a.yaml", "placements: [{id: p, slot: hero, widget: b, params: [1]}]", "a.yaml", "p",
     "params", "expected a mapping"),
    ("a.yaml", "placements: [{id: p, slot: hero, widget: b, colour: red}]", "a.yaml", "p",
     "colour", "unknown field"),
    ("a.yaml", "placements: [{id: p, slot: hero, widget: b, priority: high}]", "a.yaml", "p",
     "priority", "whole number"),
    ("a.yaml", "placements: [{id: p, slot: h, widget: b, when: {sesion: {page_views: 5}}}]",
     "a.yaml", "p", "when.sesion", "unknown condition"),
    ("a.yaml", "placements: [{id: p, slot: h, widget: b, when: {session: {page_views: {gte: "
     "many}}}}]", "a.yaml", "p", "when.session.page_views.gte", "needs a number"),
    ("a.yaml", "placements: [{id: p, slot: h, widget: b, when: {session: {page_views: {about:"
     " 5}}}}]", "a.yaml", "p", "when.session.page_views.about", "unknown operator"),
    ("a.yaml", "placements: [{id: p, slot: h, widget: b, when: {all: [{page: {type: home}}, "
     "{page: {url_regex: '(['}}]}}]", "a.yaml", "p", "when.all[1].page.url_regex",
     "invalid regular expression"),
    ("a.yaml", "placements: [{id: p, slot: h, widget: b, when: {segment: vipp}}]", "a.yaml",
     "p", "when.segment", "unknown segment 'vipp'"),
    ("a.yaml", "placements: [{id: p, slot: h, widget: b, exclude_segments: [nobody]}]",
     "a.yaml", "p", "exclude_segments", "unknown segment"),
    ("a.yaml", "placements: [{id: p, slot: h, widget: b, group: promo}]", "a.yaml", "p",
     "group", "unknown campaign group"),
    ("a.yaml", "placements: [{id: p, slot: h, widget: b, when: {seen: nothing}}]", "a.yaml",
     "p", "when.seen.placement", "unknown placement"),
    ("a.yaml", "placements: [{id: p, slot: h, widget: b, caps: {visit: -1}}]", "a.yaml", "p",
     "caps.visit", "whole number"),
    ("a.yaml", "placements: [{id: p, slot: h, widget: b, consents: [1]}]", "a.yaml", "p",
     "consents", "list of names"),
    ("a.yaml", "placements: [{id: p, kind: popup, trigger: {type: scroll, percent: 300}}]",
     "a.yaml", "p", "trigger.percent", "between 1"),
    ("a.yaml", "placements: [{id: p, kind: popup, trigger: hover}]", "a.yaml", "p",
     "trigger.type", "expected one of"),
    ("a.yaml", "placements: [{id: p, kind: inbox, offer: X, texts: {en: {body: hi}}}]",
     "a.yaml", "p", "texts.en", "title"),
    ("a.yaml", "placements: [{id: p, kind: inbox, offer: X, texts: {en: {title: t}}, "
     "expires: soon}]", "a.yaml", "p", "expires", "ISO date-time"),
    ("a.yaml", "placements: [{id: p, slot: h, widget: b, experiment: nope}]", "a.yaml", "p",
     "experiment", "unknown experiment"),
    ("a.yaml", "experiments: [{id: e, variants: [{id: a}, {id: b}, {id: c}, {id: d}, "
     "{id: f}]}]", "a.yaml", "e", "variants", "1 to 4 variants"),
    ("a.yaml", "experiments: [{id: e, variants: [{id: a}, {id: a}]}]", "a.yaml", "e",
     "variants[1].id", "duplicate variant"),
    ("a.yaml", "experiments: [{id: e, variants: [{id: control}]}]", "a.yaml", "e",
     "variants[0].id", "other than 'control'"),
    ("a.yaml", "experiments: [{id: e, variants: [{id: a, weight: -2}]}]", "a.yaml", "e",
     "variants[0].weight", "number"),
    ("a.yaml", "experiments: [{id: e, variants: [{id: a}], after: {mode: winner, winner: z}}]",
     "a.yaml", "e", "after.winner", "not a variant"),
    ("a.yaml", "experiments: [{id: e, variants: [{id: a}], after: {mode: greedy}}]",
     "a.yaml", "e", "after.mode", "keep, winner or bandit"),
    ("a.yaml", "segments: [{id: s, when: {segment: t}}, {id: t, when: {segment: s}}]",
     "a.yaml", "s", "when", "cycle: s → t → s"),
    ("a.yaml", "segments: [{id: s}]", "a.yaml", "s", "when", "needs 'when'"),
    ("a.yaml", "segments: [{id: s, when: {}}]", "a.yaml", "s", "when", "empty condition"),
    ("a.yaml", "segments: [{id: s, when: {time: {weekday: [funday]}}}]", "a.yaml", "s",
     "when.time.weekday", "mon…sun"),
    ("a.yaml", "segments: [{id: s, when: {purchases: {days: 30}}}]", "a.yaml", "s",
     "when.purchases", "count, sum or days_since_last"),
    ("a.yaml", "segments: [{id: s, when: {views: {attribute: rooms}}}]", "a.yaml", "s",
     "when.views.value", "value (with count) or top"),
    ("a.yaml", "segments: [{id: s, when: {any: []}}]", "a.yaml", "s", "when.any", "non-empty"),
    ("a.yaml", "segments: [{id: s, when: {newsletter: yes please}}]", "a.yaml", "s",
     "when.newsletter", "true or false"),
    ("a.yaml", "placements: [{id: p, slot: h, widget: b, starts: 2026-02-01, ends: 2026-01-01}]",
     "a.yaml", "p", "ends", "after starts"),
    ("a.yaml", "segments: [{id: s, when: {profile: {signed: {after: someday}}}}]", "a.yaml", "s",
     "when.profile.signed.after", "needs a date"),
    ("a.yaml", "segments: [{id: s, when: {profile: {d: {days_since: {lt: 3}, eq: 1}}}}]",
     "a.yaml", "s", "when.profile.d", "stands alone"),
    ("a.yaml", "caps: {popups_per_visit: lots}", "a.yaml", "caps", "popups_per_visit",
     "whole number"),
]


@pytest.mark.parametrize(("name", "text", "file", "rule", "field", "words"), BAD,
                         ids=[f"{b[4] or b[0]}: {b[5]}" for b in BAD])
def test_bad_file(tmp_path: Path, name: str, text: str, file: str, rule: str | None,
                  field: str | None, words: str) -> None:
    (tmp_path / name).write_text(text, encoding="utf-8")
    with pytest.raises(RuleError) as info:
        load_dir(tmp_path)
    err = info.value
    assert (err.file, err.rule, err.field) == (file, rule, field)
    assert words in err.message
    assert str(err).startswith(f"file {file}")


def test_duplicate_id_names_both_files(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(GOOD, encoding="utf-8")
    sub = tmp_path / "more"
    sub.mkdir()
    (sub / "b.toml").write_text('[[placements]]\nid = "hero_vip"\nslot = "hero"\n'
                                'widget = "banner"\n', encoding="utf-8")
    with pytest.raises(RuleError) as info:
        load_dir(tmp_path)
    assert info.value.file == "more/b.toml"
    assert info.value.rule == "hero_vip"
    assert "first defined in a.yaml" in info.value.message


def test_cross_file_references_resolve(tmp_path: Path) -> None:
    (tmp_path / "segments.yaml").write_text(GOOD.split("placements:")[0], encoding="utf-8")
    (tmp_path / "hero.toml").write_text('[[placements]]\nid = "hero_vip"\nslot = "hero"\n'
                                        'widget = "banner"\nsegments = ["vip"]\n',
                                        encoding="utf-8")
    rs = load_dir(tmp_path)
    assert [p.id for p in rs.placements] == ["hero_vip"]
    assert rs.files == ("hero.toml", "segments.yaml")


def test_global_cap_set_twice(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("caps: {popups_per_visit: 1}", encoding="utf-8")
    (tmp_path / "b.yaml").write_text("caps: {popups_per_visit: 2}", encoding="utf-8")
    with pytest.raises(RuleError) as info:
        load_dir(tmp_path)
    assert (info.value.file, info.value.field) == ("b.yaml", "popups_per_visit")


def test_missing_directory() -> None:
    with pytest.raises(RuleError, match="does not exist"):
        load_dir("/nonexistent/rules")


def test_cli_check(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(GOOD, encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    assert check(tmp_path, out=out, err=err) == 0
    assert out.getvalue().startswith("ok: 1 files, 1 segments, 1 placements (1 slot")
    (tmp_path / "b.yaml").write_text("segments: [{id: x, when: {device: }}]", encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    assert check(tmp_path, out=out, err=err) == 1
    assert err.getvalue() == ("error: file b.yaml, rule 'x', field 'when.device': "
                              "a value is needed\n")


def test_demo_rules_are_valid() -> None:
    demo = Path(__file__).resolve().parents[2] / "rules" / "examples" / "demo"
    out = io.StringIO()
    assert check(demo, out=out, err=io.StringIO()) == 0
    assert "3 pop-up, 1 inbox" in out.getvalue()


def test_cli_reports_every_file_that_does_not_parse(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("placements: [", encoding="utf-8")
    (tmp_path / "b.toml").write_text("[[placements]\n", encoding="utf-8")
    (tmp_path / "c.yaml").write_text(GOOD, encoding="utf-8")
    err = io.StringIO()
    assert check(tmp_path, out=io.StringIO(), err=err) == 1
    lines = err.getvalue().splitlines()
    assert [line.split(":")[1].strip() for line in lines] == ["file a.yaml", "file b.toml"]


def test_cli_on_a_missing_directory() -> None:
    err = io.StringIO()
    assert check("/nonexistent/rules", out=io.StringIO(), err=err) == 1
    assert "does not exist" in err.getvalue()
