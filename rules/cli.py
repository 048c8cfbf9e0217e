"""``edge rules check DIR``: validate a rule directory and report what it holds."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from rules.errors import RuleError
from rules.load import Document, parse_documents, read_file, rule_files


def check(path: str | Path, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Print errors (or a summary) and return an exit code: 0 valid, 1 invalid."""
    out = out or sys.stdout
    err = err or sys.stderr
    root = Path(path)
    try:
        files = rule_files(root)
    except RuleError as exc:
        print(f"error: {exc}", file=err)
        return 1
    # Every file that does not parse is reported; past that, the first error in the rules
    # (ids and references span files, so later errors could be echoes of the first).
    docs: list[Document] = []
    errors: list[RuleError] = []
    for f in files:
        try:
            docs.append(read_file(f, str(f.relative_to(root))))
        except RuleError as exc:
            errors.append(exc)
    if not errors:
        try:
            rs = parse_documents(docs)
        except RuleError as exc:
            errors.append(exc)
    if errors:
        for problem in errors:
            print(f"error: {problem}", file=err)
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
