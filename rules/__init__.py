"""The rule engine: a pure function of (rules, visitor context) → what each slot shows.

    from rules import load_dir, decide, explain, Context
    ruleset = load_dir("rules/examples/demo")
    decision = decide(ruleset, Context.from_dict({...}))

No I/O except reading rule files in :mod:`rules.load`/:mod:`rules.store`; nothing from ``edge``.
See docs/rules.md for the rule file reference.
"""

from rules.context import Context
from rules.decide import decide
from rules.decision import Decision, Impression, InboxOffer, Popup, SlotFill
from rules.errors import RuleError
from rules.experiments import allocations, assign
from rules.explain import explain
from rules.load import load_dir, parse_documents
from rules.model import RuleSet
from rules.results import prob_best, summarize
from rules.store import RuleStore

__all__ = [
    "Context", "Decision", "Impression", "InboxOffer", "Popup", "RuleError", "RuleSet",
    "RuleStore", "SlotFill", "allocations", "assign", "decide", "explain", "load_dir",
    "parse_documents", "prob_best", "summarize",
]
