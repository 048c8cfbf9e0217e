"""How long rules.decide() takes with 10, 100 and 1,000 rules.

    python loadtests/bench_rules.py [--repeat 3000]

Builds synthetic rule sets shaped like a shop's (a fifth segments, the rest slot placements
over 8 slots with priorities, groups, caps and one A/B test, plus pop-ups and inbox offers)
and times decide() for a rich visitor context that matches some rules and not others.
Prints p50/p99 in microseconds. Target: 100 rules at p50 ≤ 100 µs.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rules import Context, decide, explain, parse_documents  # noqa: E402

NOW = 1763900000
SLOTS = ["hero", "advisor", "recommendations", "side", "footer", "cart_upsell", "banner2",
         "teaser"]
PAGE_TYPES = ["home", "category", "product", "cart"]


def _condition(rng: random.Random, segments: list[str]) -> dict[str, Any]:
    pick = rng.randrange(8)
    if pick == 0:
        return {"page": {"type": rng.sample(PAGE_TYPES, 2)}}
    if pick == 1:
        return {"session": {"page_views": {"gte": rng.randint(1, 8)},
                            "seconds_on_site": {"gte": rng.choice([30, 60, 180])}}}
    if pick == 2:
        return {"profile": {"tier": rng.choice(["gold", "silver", "bronze"])}}
    if pick == 3:
        return {"purchases": {"days": 30, "sum": {"gte": rng.choice([100, 300, 1000])}}}
    if pick == 4 and segments:
        return {"segment": rng.choice(segments)}
    if pick == 5:
        return {"any": [{"device": "mobile"}, {"language": rng.choice(["pl", "de"])}]}
    if pick == 6:
        return {"page": {"category": rng.choice(["shoes/*", "bags/*", "coats/*"])},
                "views": {"category": "shoes/*", "count": {"gte": rng.randint(1, 6)}}}
    return {"not": {"newsletter": True}, "time": {"hour": {"gte": rng.randint(0, 12)}}}


def ruleset_doc(n: int, seed: int = 1) -> dict[str, Any]:
    rng = random.Random(seed)
    n_seg = max(2, n // 5)
    segments: list[str] = []
    seg_entries = []
    for i in range(n_seg):
        seg_entries.append({"id": f"seg{i}", "when": _condition(rng, segments[:])})
        segments.append(f"seg{i}")
    groups = [{"id": f"g{i}"} for i in range(max(1, n // 50))]
    placements: list[dict[str, Any]] = []
    for i in range(n - n_seg):
        kind = "slot" if i % 10 < 8 else ("popup" if i % 10 == 8 else "inbox")
        p: dict[str, Any] = {"id": f"p{i}", "kind": kind, "priority": rng.randint(0, 100),
                             "when": {"all": [_condition(rng, segments),
                                              _condition(rng, segments)]},
                             "params": {"headline": f"Offer {i}"}}
        if kind == "slot":
            p.update(slot=rng.choice(SLOTS), widget="banner")
        elif kind == "popup":
            p["trigger"] = "exit_intent"
        else:
            p.update(offer=f"O{i}", texts={"en": {"title": f"Offer {i}"},
                                          "pl": {"title": f"Oferta {i}"}})
        if rng.random() < 0.3:
            p["caps"] = {"visit": 3, "day": 5, "stop_after_close": True}
        if rng.random() < 0.2:
            p["exclude_segments"] = [rng.choice(segments)]
        if rng.random() < 0.2:
            p["group"] = rng.choice(groups)["id"]
        if rng.random() < 0.2:
            p["consents"] = ["marketing"]
        if i == 0:
            p["experiment"] = "ab"
        placements.append(p)
    return {"segments": seg_entries, "groups": groups, "placements": placements,
            "caps": {"popups_per_visit": 2},
            "experiments": [{"id": "ab", "variants": [{"id": "a"}, {"id": "b"}],
                             "control": 1}]}


def context(i: int) -> Context:
    return Context.from_dict({
        "visitor_id": f"visitor-{i}", "now": NOW,
        "page": {"url": "https://shop.test/p/1", "path": "/p/1",
                 "page_type": PAGE_TYPES[i % 4], "product": "SKU-1",
                 "category": "shoes/running", "slots": ["hero", "advisor", "recommendations"]},
        "session": {"seconds_on_site": 120 + i % 200, "page_views": 1 + i % 9,
                    "visit_number": 3, "utm": {"source": "newsletter"}},
        "profile": {"tier": ["gold", "silver", "none"][i % 3], "first_name": "Anna"},
        "consents": {"marketing": i % 2 == 0}, "language": ["pl", "en"][i % 2],
        "device": ["mobile", "desktop"][i % 2], "local_time": "2026-11-23T14:00:00+01:00",
        "purchases": [{"value": 120.0 * (k + 1), "currency": "PLN", "ts": NOW - 86400 * 7 * k}
                      for k in range(i % 5)],
        "cart": {"items": [{"sku": "SKU-2", "qty": 1, "price": 99.0}]},
        "views": {"categories": {"shoes/running": 4, "bags/city": 1}},
        "placements": {f"p{k}": {"seen": {"visit": 1, "day": 2, "lifetime": 5,
                                          "last": NOW - 3600}} for k in range(0, 40, 7)},
        "newsletter": i % 4 == 0,
    })


def measure(n: int, repeat: int) -> tuple[float, float, float]:
    rs = parse_documents([("bench.yaml", ruleset_doc(n))])
    contexts = [context(i) for i in range(64)]
    for c in contexts:  # warm up, and make sure explain works on the same rules
        decide(rs, c)
    explain(rs, contexts[0])
    samples = []
    clock = time.perf_counter_ns
    for k in range(repeat):
        c = contexts[k % 64]
        t0 = clock()
        decide(rs, c)
        samples.append((clock() - t0) / 1000.0)
    samples.sort()
    return (statistics.median(samples), samples[int(len(samples) * 0.99) - 1],
            statistics.fmean(samples))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=3000)
    args = ap.parse_args()
    print(f"decide() on {sys.implementation.name} {sys.version.split()[0]}, "
          f"{args.repeat} calls per size")
    print(f"{'rules':>6} | {'p50 µs':>8} | {'p99 µs':>8} | {'mean µs':>8}")
    print(f"{'-' * 6}-+-{'-' * 8}-+-{'-' * 8}-+-{'-' * 8}")
    for n in (10, 100, 1000):
        p50, p99, mean = measure(n, args.repeat)
        print(f"{n:>6} | {p50:>8.1f} | {p99:>8.1f} | {mean:>8.1f}")


if __name__ == "__main__":
    main()
