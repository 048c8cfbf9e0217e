"""A realistic visitor mix for the demo shop behind the edge.

    edge demo                                   # in one terminal
    locust -f loadtests/locustfile.py --host http://127.0.0.1:8000

Most visitors are anonymous and browse (home, categories, products), some like products and
fill carts, the widget script reports impressions and clicks, and a few log in as known
contacts. Every visitor keeps its own cookies, so the edge sees each as one person across the
run: new visitors get a cookie on their first page and are recognised after that.
"""

from __future__ import annotations

import random
import re

from locust import HttpUser, between, task

CONTACTS = [
    "krzysztof.nowak@example.com",
    "anna.kowalska@example.com",
    "tomasz.wisniewski@example.com",
    "katarzyna.wojcik@example.com",
    "jan.schmidt@example.com",
]
CATEGORIES = ["/c/shoes", "/c/shoes/running", "/c/jackets", "/c/tents", "/c/backpacks", "/c/new"]
_SKU = re.compile(r'href="/p/([A-Z0-9-]+)"')
_PLACEMENT = re.compile(r'data-edge-placement="([^"]+)"(?: data-edge-variant="([^"]*)")?')


class Shopper(HttpUser):
    """An anonymous shopper: browses, now and then likes a product or adds it to the cart."""

    weight = 8
    wait_time = between(0.5, 3)

    def on_start(self) -> None:
        self.skus: list[str] = []
        self.page("/", name="home")

    def page(self, path: str, name: str) -> str:
        with self.client.get(path, name=name, catch_response=True) as resp:
            if resp.status_code != 200:
                resp.failure(f"status {resp.status_code}")
                return ""
            text = resp.text
        self.skus = _SKU.findall(text) or self.skus
        self.report_placements(text)
        return text

    def report_placements(self, html: str) -> None:
        # What the widget script does once a placement is half visible, and on a click.
        events = []
        for placement, variant in _PLACEMENT.findall(html)[:3]:
            event = {"type": "impression", "placement": placement}
            if variant:
                event["variant"] = variant
            events.append(event)
            if random.random() < 0.05:
                events.append({**event, "type": "click"})
        if events:
            self.client.post("/_edge/api/events", json={"events": events}, name="events")

    @task(4)
    def category(self) -> None:
        self.page(random.choice(CATEGORIES), name="category")

    @task(6)
    def product(self) -> None:
        if self.skus:
            sku = random.choice(self.skus)
            self.page(f"/p/{sku}", name="product")
            self.client.post("/_edge/api/events", json={
                "events": [{"type": "product_view", "sku": sku}]}, name="events")

    @task(2)
    def home(self) -> None:
        self.page("/", name="home")

    @task(1)
    def like(self) -> None:
        if self.skus:
            self.client.post("/_edge/api/inbox/wishlist", json={"sku": random.choice(self.skus)},
                             name="inbox: like")
            self.client.get("/_edge/api/inbox", name="inbox")

    @task(1)
    def add_to_cart(self) -> None:
        if self.skus:
            sku = random.choice(self.skus)
            self.client.post("/cart/add", data={"sku": sku, "qty": "1"}, name="cart: add")
            self.client.post("/_edge/api/events", json={
                "events": [{"type": "add_to_cart", "sku": sku, "qty": 1}]}, name="events")


class KnownContact(Shopper):
    """A returning customer who logs in and then browses as a known contact."""

    weight = 2

    def on_start(self) -> None:
        self.skus = []
        self.client.post("/login", data={"email": random.choice(CONTACTS), "password": "demo"},
                         name="login")
        self.page("/", name="home (known)")
