"""RuleStore reloads changed rule files and keeps the previous rules when a file is broken."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rules import Context, RuleStore, decide
from rules.errors import RuleError

V1 = "placements: [{id: hero_a, slot: hero, widget: banner, params: {v: 1}}]\n"
V2 = "placements: [{id: hero_b, slot: hero, widget: banner, params: {v: 2}}]\n"
BROKEN = "placements: [{id: hero_c, slot: hero, widget: banner, when: {page: {typ: x}}}]\n"


def write(path: Path, text: str) -> None:
    # Set the mtime explicitly: two writes within one clock tick must still count as a change.
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(before + 10**9, before + 10**9))


def hero(store: RuleStore) -> str:
    return decide(store.ruleset, Context()).slots["hero"].placement


def test_reload_on_change_and_keep_old_rules_when_broken(tmp_path: Path) -> None:
    f = tmp_path / "hero.yaml"
    write(f, V1)
    store = RuleStore(tmp_path)
    assert (hero(store), store.version, store.last_error) == ("hero_a", 1, None)
    assert store.maybe_reload() is False  # nothing changed

    write(f, V2)
    assert store.maybe_reload() is True
    assert (hero(store), store.version) == ("hero_b", 2)

    write(f, BROKEN)
    assert store.maybe_reload() is False
    assert hero(store) == "hero_b"  # the previous rules stay in force
    assert store.last_error is not None
    assert (store.last_error.file, store.last_error.rule, store.last_error.field) == (
        "hero.yaml", "hero_c", "when.page.typ")
    assert store.maybe_reload() is False  # still broken, not retried until it changes
    assert store.last_error is not None

    write(f, V1)
    assert store.maybe_reload() is True
    assert (hero(store), store.version, store.last_error) == ("hero_a", 3, None)


def test_added_and_removed_files(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", V1)
    store = RuleStore(tmp_path)
    write(tmp_path / "b.yaml", "placements: [{id: side, slot: side, widget: banner}]\n")
    assert store.maybe_reload() is True
    assert set(decide(store.ruleset, Context()).slots) == {"hero", "side"}
    (tmp_path / "b.yaml").unlink()
    assert store.maybe_reload() is True
    assert set(decide(store.ruleset, Context()).slots) == {"hero"}


def test_strict_start_raises_lenient_start_reports(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", BROKEN)
    with pytest.raises(RuleError, match="unknown page field"):
        RuleStore(tmp_path)
    store = RuleStore(tmp_path, strict=False)
    assert store.ruleset.placements == ()
    assert store.last_error is not None and store.last_error.rule == "hero_c"
    write(tmp_path / "a.yaml", V1)
    assert store.maybe_reload() is True
    assert hero(store) == "hero_a"


def test_directory_removed_keeps_rules(tmp_path: Path) -> None:
    d = tmp_path / "rules"
    d.mkdir()
    write(d / "a.yaml", V1)
    store = RuleStore(d)
    (d / "a.yaml").unlink()
    d.rmdir()
    assert store.maybe_reload() is False
    assert hero(store) == "hero_a"
    assert store.last_error is not None and "does not exist" in store.last_error.message
