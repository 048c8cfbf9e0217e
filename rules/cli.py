"""``edge rules check DIR``: validate a rule directory and report what it holds."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from rules.errors import RuleError
from rules.load import load_dir


def check(path: str | Path, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Print errors (or a summary) and return an exit code: 0 valid, 1 invalid."""
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        rs = load_dir(path)
    except RuleError as exc:
        print(f"error: {exc}", file=err)
        return 1
    kinds = {k: sum(1 for p in rs.placements if p.kind == k) for k in ("slot", "popup", "inbox")}
    print(f"ok: {len(rs.files)} files, {len(rs.segments)} segments, "
          f"{len(rs.placements)} placements ({kinds['slot']} slot, {kinds['popup']} pop-up, "
          f"{kinds['inbox']} inbox), {len(rs.experiments)} experiments, "
          f"{len(rs.groups)} groups", file=out)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m rules.cli DIR", file=sys.stderr)
        return 2
    return check(args[0])


if __name__ == "__main__":
    raise SystemExit(main())
