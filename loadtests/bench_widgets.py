"""Render time of a three-slot personalized page: banner, advisor card, 6-product frame.

    .venv/bin/python loadtests/bench_widgets.py [--iterations 5000]

The catalog has 300 products; the frame mixes three strategies (viewed together, same
category, bestsellers) with a price filter. Each iteration renders all three placements for a
known contact on a product page, as ``edge.personalize`` would per request. Two runs: with the
widgets' render memo emptied before every page (a page this visitor has not seen: everything is
computed and rendered), and with the memo kept (the product rotates over the catalog, so each
page was rendered before). Prints p50/p99/mean in microseconds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.widgets.factories import known_contact, make_catalog, make_signals  # noqa: E402
from widgets.context import build_context  # noqa: E402
from widgets.registry import WidgetRegistry  # noqa: E402

BANNER = {"title": "Wyprzedaż", "text": "Do -50% na buty", "cta": "Zobacz", "link": "/sale",
          "image": "https://cdn.example.com/sale.jpg", "greeting": True, "show_loyalty": True}
ADVISOR = {"default_country_code": "48"}
FRAME = {"count": 6, "min_count": 3,
         "mix": [{"strategy": "viewed_together", "count": 2},
                 {"strategy": "same_category", "count": 2}, {"strategy": "bestsellers"}],
         "filters": {"price_min_ratio": 0.3, "price_max_ratio": 3}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=5000)
    args = parser.parse_args()

    catalog = make_catalog(300)
    signals = make_signals(catalog)
    registry = WidgetRegistry.create()
    # Params are validated once, when rules load.
    placements = [("banner", registry.parse_params("banner", BANNER)),
                  ("advisor_card", registry.parse_params("advisor_card", ADVISOR)),
                  ("recommendations", registry.parse_params("recommendations", FRAME))]
    visitor = known_contact(catalog)
    skus = [p.sku for p in catalog]
    contexts = [build_context(language="pl", catalog=catalog, signals=signals, visitor=visitor,
                              page={"page_type": "product", "sku": sku},
                              placement={"id": "slot", "variant": "A"}) for sku in skus]
    css = registry.stylesheet()

    def page(i: int) -> int:
        ctx = contexts[i % len(contexts)]
        size = len(css)
        for name, params in placements:
            html = registry.render(name, ctx, params, include_css=False)
            size += len(html or "")
        return size

    for i in range(300):  # warm up: templates compiled, price formats and product cards cached
        page(i)
    print(f"3-slot page (banner + advisor + 6-product frame, 3 strategies), "
          f"{len(catalog)}-product catalog, {args.iterations} renders")
    for label, fresh in (("memo miss", True), ("memo hit ", False)):
        times = []
        sizes = 0
        for i in range(args.iterations):
            if fresh:
                for widget in registry:
                    widget.clear_memo()
            start = time.perf_counter_ns()
            sizes += page(i)
            times.append((time.perf_counter_ns() - start) / 1000)
        times.sort()
        p50 = times[len(times) // 2]
        p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
        print(f"{label}  p50 {p50:.0f} µs   p99 {p99:.0f} µs   "
              f"mean {statistics.fmean(times):.0f} µs   html {sizes // args.iterations} bytes/page")


if __name__ == "__main__":
    main()
