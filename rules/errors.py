"""Errors of the rule engine. ``rules`` imports nothing from ``edge``; the edge maps
:class:`RuleError` to ``edge.errors.RuleError`` at its boundary (same ``file``/``rule``/``field``).
"""

from __future__ import annotations


class RuleError(Exception):
    """A rule file is invalid. ``file``, ``rule`` (its id) and ``field`` (a dotted path such as
    ``when.all[1].session.page_views.gte``) say where."""

    def __init__(self, message: str, *, file: str | None = None, rule: str | None = None,
                 field: str | None = None):
        self.message, self.file, self.rule, self.field = message, file, rule, field
        super().__init__(self.describe())

    def describe(self) -> str:
        where = []
        if self.file:
            where.append(f"file {self.file}")
        if self.rule:
            where.append(f"rule {self.rule!r}")
        if self.field:
            where.append(f"field {self.field!r}")
        return f"{', '.join(where)}: {self.message}" if where else self.message

    def located(self, *, file: str | None = None, rule: str | None = None,
                field_prefix: str | None = None) -> RuleError:
        """The same error with missing location parts filled in (inner code knows less)."""
        field = self.field
        if field_prefix:
            field = f"{field_prefix}.{field}" if field else field_prefix
        return RuleError(self.message, file=self.file or file, rule=self.rule or rule, field=field)
