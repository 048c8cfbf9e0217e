"""Rule files → a validated, compiled :class:`~rules.model.RuleSet`.

A rule directory holds ``*.yaml``/``*.yml``/``*.toml`` files (read recursively, in sorted
order). Each file may hold any of the top-level keys ``segments``, ``groups``,
``experiments``, ``placements`` (lists of tables with an ``id``) and ``caps`` (a table).
Ids are unique across the directory. Every problem raises :class:`~rules.errors.RuleError`
naming the file, the rule and the field. ``parse_documents`` is pure; ``load_dir`` reads files.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from rules.conditions import Scope, compile_condition
from rules.errors import RuleError
from rules.model import Experiment, GlobalCaps, Group, Placement, RuleSet, Segment
from rules.schema import Reader, read_experiment, read_placement

TOP_KEYS = ("segments", "groups", "experiments", "placements", "caps")
SUFFIXES = (".yaml", ".yml", ".toml")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")

Document = tuple[str, Any]


def rule_files(path: str | Path) -> list[Path]:
    root = Path(path)
    if not root.is_dir():
        raise RuleError(f"rules directory {str(root)!r} does not exist")
    return sorted(p for p in root.rglob("*") if p.suffix in SUFFIXES and p.is_file()
                  and not p.name.startswith("."))


def read_file(path: Path, name: str | None = None) -> Document:
    name = name or path.name
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleError(f"cannot read: {exc}", file=name) from None
    return name, parse_text(text, name)


def parse_text(text: str, name: str) -> Any:
    try:
        if name.endswith(".toml"):
            return tomllib.loads(text)
        return yaml.safe_load(text)
    except tomllib.TOMLDecodeError as exc:
        raise RuleError(f"not valid TOML: {exc}", file=name) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise RuleError(f"not valid YAML{at}: {problem}", file=name) from None


def load_dir(path: str | Path) -> RuleSet:
    """Read and compile every rule file under ``path``."""
    root = Path(path)
    docs = [read_file(p, str(p.relative_to(root))) for p in rule_files(root)]
    return parse_documents(docs)


def _entries(docs: Iterable[Document]) -> dict[str, list[tuple[str, int, Mapping[str, Any]]]]:
    """Top-level entries by kind, each with its file and index; checks shape and ids."""
    out: dict[str, list[tuple[str, int, Mapping[str, Any]]]] = {k: [] for k in TOP_KEYS}
    seen: dict[tuple[str, str], str] = {}
    for name, data in docs:
        if data is None:
            continue
        if not isinstance(data, Mapping):
            raise RuleError("a rule file must hold a mapping of "
                            f"{', '.join(TOP_KEYS)}", file=name)
        for key, value in data.items():
            if key not in TOP_KEYS:
                raise RuleError(f"unknown top-level key (known: {', '.join(TOP_KEYS)})",
                                file=name, field=str(key))
            if key == "caps":
                if not isinstance(value, Mapping):
                    raise RuleError("expected a mapping", file=name, field="caps")
                out["caps"].append((name, 0, value))
                continue
            if not isinstance(value, list):
                raise RuleError(f"expected a list of {key}", file=name, field=key)
            for i, entry in enumerate(value):
                if not isinstance(entry, Mapping):
                    raise RuleError("expected a mapping with an id", file=name,
                                    field=f"{key}[{i}]")
                rid = entry.get("id")
                if not isinstance(rid, str) or not _ID.match(rid):
                    raise RuleError("every entry needs an id (letters, digits, _ . : -)",
                                    file=name, field=f"{key}[{i}].id")
                kind = "placements" if key == "placements" else key
                if (kind, rid) in seen:
                    raise RuleError(f"duplicate id, first defined in {seen[(kind, rid)]}",
                                    file=name, rule=rid, field="id")
                seen[(kind, rid)] = name
                out[key].append((name, i, entry))
    return out


def _segment_refs(spec: Any) -> set[str]:
    refs: set[str] = set()
    if isinstance(spec, list):
        for s in spec:
            refs |= _segment_refs(s)
    elif isinstance(spec, Mapping):
        for k, v in spec.items():
            if k == "segment":
                refs |= {v} if isinstance(v, str) else {x for x in v if isinstance(x, str)} \
                    if isinstance(v, list) else set()
            elif k in ("all", "any", "not"):
                refs |= _segment_refs(v)
    return refs


def _check_cycles(segs: list[tuple[str, int, Mapping[str, Any]]]) -> None:
    graph = {e["id"]: (_segment_refs(e.get("when")), name) for name, _, e in segs}
    state: dict[str, int] = {}

    def visit(sid: str, trail: list[str]) -> None:
        if state.get(sid) == 2 or sid not in graph:
            return
        if state.get(sid) == 1:
            cycle = " → ".join(trail[trail.index(sid):] + [sid])
            raise RuleError(f"segments refer to each other in a cycle: {cycle}",
                            file=graph[sid][1], rule=sid, field="when")
        state[sid] = 1
        for ref in sorted(graph[sid][0]):
            visit(ref, trail + [sid])
        state[sid] = 2

    for sid in graph:
        visit(sid, [])


def parse_documents(docs: Iterable[Document]) -> RuleSet:
    """Validate and compile parsed rule files (``(file name, data)`` pairs)."""
    docs = list(docs)
    try:
        return _parse(docs)
    except RecursionError:
        # Rules nested thousands deep, or a YAML alias that refers to itself.
        raise RuleError("conditions are nested too deeply (or refer to themselves)",
                        file=docs[0][0] if len(docs) == 1 else None) from None


def _parse(docs: list[Document]) -> RuleSet:
    entries = _entries(docs)

    groups = {e["id"]: Group(e["id"], name, str(e.get("description", "")))
              for name, _, e in entries["groups"]}
    for name, _, e in entries["groups"]:
        Reader(e, name, e["id"]).only(("id", "description"))
    members: dict[str, set[str]] = {g: set() for g in groups}
    for name, _, e in entries["placements"]:
        g = e.get("group")
        if g is not None:
            if g not in groups:
                raise RuleError(f"unknown campaign group {g!r} (declare it under groups)",
                                file=name, rule=e["id"], field="group")
            members[g].add(e["id"])

    seg_ids = frozenset(e["id"] for _, _, e in entries["segments"])
    pl_ids = frozenset(e["id"] for _, _, e in entries["placements"])
    scope = Scope(seg_ids, pl_ids, {g: frozenset(m) for g, m in members.items()})
    _check_cycles(entries["segments"])

    segments: dict[str, Segment] = {}
    for name, _, e in entries["segments"]:
        r = Reader(e, name, e["id"])
        r.only(("id", "description", "when"))
        if "when" not in e:
            raise RuleError("a segment needs 'when'", file=name, rule=e["id"], field="when")
        try:
            cond = compile_condition(e["when"], scope, "when")
        except RuleError as exc:
            raise exc.located(file=name, rule=e["id"]) from None
        segments[e["id"]] = Segment(e["id"], name, cond, r.text("description", ""))

    experiments: dict[str, Experiment] = {}
    for name, _, e in entries["experiments"]:
        experiments[e["id"]] = read_experiment(Reader(e, name, e["id"]))

    placements: list[Placement] = []
    for order, (name, _, e) in enumerate(entries["placements"]):
        pscope = Scope(scope.segments, scope.placements, scope.groups, owner=e["id"])
        placements.append(read_placement(Reader(e, name, e["id"]), order, pscope, experiments))
    placements.sort(key=lambda p: (-p.priority, p.order))

    caps = GlobalCaps()
    for name, _, c in entries["caps"]:
        r = Reader(c, name, "caps")
        r.only(("popups_per_visit", "popups_per_day"))
        for key in ("popups_per_visit", "popups_per_day"):
            if key in c:
                if getattr(caps, key) is not None:
                    raise RuleError("set in more than one file", file=name, rule="caps",
                                    field=key)
                caps = GlobalCaps(**{**caps.__dict__, key: r.count(key)})

    return RuleSet(segments=segments, placements=tuple(placements), experiments=experiments,
                   groups=groups, caps=caps, files=tuple(n for n, _ in docs))
