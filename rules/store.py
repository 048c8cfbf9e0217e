"""RuleStore: keeps the rules of a directory loaded, reloading when files change.

No threads: the caller (the edge, once a second or per request) calls :meth:`maybe_reload`,
which compares file names, sizes and mtimes and reloads only on a change. A broken file keeps
the previously loaded rules in force and exposes the error in :attr:`last_error`.
"""

from __future__ import annotations

from pathlib import Path

from rules.errors import RuleError
from rules.load import load_dir, rule_files
from rules.model import RuleSet

Stamp = tuple[tuple[str, int, int], ...]


class RuleStore:
    def __init__(self, path: str | Path, *, strict: bool = True):
        """Load ``path`` now. With ``strict`` a broken directory raises at start-up; without
        it the store starts with empty rules and the error in ``last_error``."""
        self.path = Path(path)
        self.ruleset = RuleSet()
        self.last_error: RuleError | None = None
        self.version = 0
        self._stamp: Stamp | None = None
        if not self.maybe_reload() and strict and self.last_error is not None:
            raise self.last_error

    def _current_stamp(self) -> Stamp:
        out = []
        for p in rule_files(self.path):
            try:
                st = p.stat()
            except OSError:
                continue
            out.append((str(p), st.st_mtime_ns, st.st_size))
        return tuple(out)

    def maybe_reload(self) -> bool:
        """Reload if any rule file was added, removed or changed; True when new rules are
        now in force. A failed load keeps the old rules and sets ``last_error``."""
        try:
            stamp = self._current_stamp()
        except RuleError as exc:
            self.last_error = exc
            return False
        if stamp == self._stamp:
            return False
        self._stamp = stamp
        try:
            ruleset = load_dir(self.path)
        except RuleError as exc:
            self.last_error = exc
            return False
        self.ruleset, self.last_error = ruleset, None
        self.version += 1
        return True
