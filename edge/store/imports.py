"""Streaming imports of contacts (CRM, ERP, loyalty) and of the product catalog.

``import_contacts(redis, rows, fmt)`` and ``import_catalog(redis, rows, fmt)`` take JSONL or CSV
lines (str or bytes, sync or async iterables) or already-parsed dicts (``fmt="dicts"``, for
seeding). Bad rows are reported by line number and skipped; good rows still go in.

Contact rows (JSONL; CSV columns in brackets)::

    contact_id, email, attributes {first_name, city, language, ...} [any other column],
    advisor {name, role, phone, email, photo_url} [advisor_<field>],
    loyalty {points, tier, next_tier, points_to_next} [points, tier, ...],
    consents {name: bool | {granted, ts}} [consent_<name>], facts {...} [fact_<name>],
    purchases [{order_id, items [{sku, qty, price}], value, currency, ts (ISO or epoch)}]
    (JSONL only; merged by order id into the purchase history, so re-imports change nothing)
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import time
from collections.abc import AsyncIterable, Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any

import redis.asyncio as aioredis
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from edge.store import keys
from edge.store.catalog import Product, save_products
from edge.store.profile import pack, text, unpack
from edge.store.signing import new_visitor_id

CHUNK = 200
MAX_BAD_ROWS = 1000  # report at most this many; the count stays exact
Scalar = str | int | float | bool | None


@dataclass
class ImportReport:
    imported: int = 0
    failed: int = 0
    bad_rows: list[dict[str, Any]] = field(default_factory=list)  # {"line": n, "error": msg}

    def bad(self, line: int, error: str) -> None:
        self.failed += 1
        if len(self.bad_rows) < MAX_BAD_ROWS:
            self.bad_rows.append({"line": line, "error": error})

    def to_json(self) -> dict[str, Any]:
        return {"imported": self.imported, "failed": self.failed, "bad_rows": self.bad_rows}


class Advisor(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str = ""
    role: str = ""
    phone: str = ""
    email: str = ""
    photo_url: str = ""


class Loyalty(BaseModel):
    model_config = ConfigDict(extra="ignore")
    points: float = 0
    tier: str = ""
    next_tier: str = ""
    points_to_next: float = 0


class PurchaseItem(BaseModel):
    model_config = ConfigDict(extra="ignore")
    sku: Annotated[str, Field(min_length=1, max_length=128)]
    qty: Annotated[int, Field(ge=1)] = 1
    price: Annotated[float, Field(ge=0)] = 0


class PastPurchase(BaseModel):
    """An order from the shop's ERP: ``ts`` is an ISO date-time or epoch seconds/ms."""

    model_config = ConfigDict(extra="ignore")
    order_id: Annotated[str, Field(min_length=1, max_length=128)]
    items: list[PurchaseItem] = []
    value: Annotated[float, Field(ge=0)] = 0
    currency: Annotated[str, Field(min_length=3, max_length=3)] = "PLN"
    ts: str | int | float

    @field_validator("ts")
    @classmethod
    def _epoch_ms(cls, value: str | int | float) -> int:
        if isinstance(value, str):
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=dt.UTC)
            return int(parsed.timestamp() * 1000)
        return int(value * 1000 if value < 10**11 else value)  # seconds or ms

    def row(self) -> dict[str, Any]:
        return {"order_id": self.order_id, "value": self.value,
                "currency": self.currency.upper(), "ts": self.ts,
                "items": [i.model_dump() for i in self.items]}


class Contact(BaseModel):
    model_config = ConfigDict(extra="ignore")
    contact_id: Annotated[str, Field(max_length=200)] = ""
    email: Annotated[str, Field(max_length=320)] = ""
    attributes: dict[str, Scalar | list[Scalar]] = {}
    advisor: Advisor | None = None
    loyalty: Loyalty | None = None
    consents: dict[str, bool | dict[str, Any]] = {}
    facts: dict[str, Any] = {}
    purchases: Annotated[list[PastPurchase], Field(max_length=10_000)] = []

    @model_validator(mode="after")
    def _identified(self) -> Contact:
        self.email = self.email.strip().lower()
        self.contact_id = self.contact_id.strip()
        if not self.contact_id and not self.email:
            raise ValueError("contact_id or email: one is required")
        if self.email and "@" not in self.email:
            raise ValueError("email: not an e-mail address")
        return self


def _contact_from_csv(row: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {"attributes": {}, "consents": {}, "facts": {}}
    advisor: dict[str, str] = {}
    loyalty: dict[str, str] = {}
    for name, value in row.items():
        if name is None or value is None or value == "":
            continue
        if name in ("contact_id", "email"):
            out[name] = value
        elif name.startswith("advisor_"):
            advisor[name[8:]] = value
        elif name in ("points", "tier", "next_tier", "points_to_next"):
            loyalty[name] = value
        elif name.startswith("consent_"):
            out["consents"][name[8:]] = value.strip().lower() in ("1", "true", "yes", "y")
        elif name.startswith("fact_"):
            out["facts"][name[5:]] = value
        else:
            out["attributes"][name.removeprefix("attr_")] = value
    if advisor:
        out["advisor"] = advisor
    if loyalty:
        out["loyalty"] = loyalty
    return out


def _product_from_csv(row: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {"attributes": {}}
    for name, value in row.items():
        if name is None or value is None or value == "":
            continue
        if name == "attributes":
            out["attributes"].update(json.loads(value))
        elif name.startswith("attr_"):
            out["attributes"][name[5:]] = _number_or_text(value)
        else:
            out[name] = value
    return out


def _number_or_text(value: str) -> str | int | float:
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


async def _rows(source: Iterable[Any] | AsyncIterable[Any], fmt: str,
                report: ImportReport, from_csv: Any) -> AsyncIterable[tuple[int, dict[str, Any]]]:
    """(line number, dict) for each row; unparsable lines go to the report."""
    async def lines() -> AsyncIterable[Any]:
        if isinstance(source, AsyncIterable):
            async for item in source:
                yield item
        else:
            for item in source:
                yield item

    if fmt not in ("jsonl", "csv", "dicts"):
        raise ValueError("format must be jsonl, csv or dicts")
    header: list[str] | None = None
    n = 0
    async for item in lines():
        n += 1
        if isinstance(item, dict):  # already parsed (seeding): any format
            yield n, item
            continue
        if fmt == "dicts":
            report.bad(n, "row: must be an object")
            continue
        text = item.decode("utf-8", "replace") if isinstance(item, bytes) else str(item)
        text = text.strip("\r\n")
        if not text.strip():
            continue
        if fmt == "jsonl":
            try:
                row = json.loads(text)
            except json.JSONDecodeError as exc:
                report.bad(n, f"invalid JSON: {exc.msg}")
                continue
            if not isinstance(row, dict):
                report.bad(n, "row: must be a JSON object")
                continue
            yield n, row
        else:
            values = next(csv.reader(io.StringIO(text)))
            if header is None:
                header = [h.strip() for h in values]
                continue
            if len(values) != len(header):
                report.bad(n, f"expected {len(header)} columns, got {len(values)}")
                continue
            try:
                yield n, from_csv(dict(zip(header, values, strict=True)))
            except (ValueError, TypeError) as exc:
                report.bad(n, str(exc))


def _error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"])
    return f"{where}: {err['msg']}" if where else err["msg"]


async def import_catalog(redis: aioredis.Redis, rows: Iterable[Any] | AsyncIterable[Any],
                         fmt: str = "jsonl") -> ImportReport:
    report = ImportReport()
    chunk: list[Product] = []
    async for n, row in _rows(rows, fmt, report, _product_from_csv):
        try:
            chunk.append(Product.model_validate(row))
        except ValidationError as exc:
            report.bad(n, _error(exc))
            continue
        if len(chunk) >= CHUNK:
            report.imported += await save_products(redis, chunk)
            chunk = []
    report.imported += await save_products(redis, chunk)
    return report


async def import_contacts(redis: aioredis.Redis, rows: Iterable[Any] | AsyncIterable[Any],
                          fmt: str = "jsonl") -> ImportReport:
    report = ImportReport()
    async for n, row in _rows(rows, fmt, report, _contact_from_csv):
        try:
            contact = Contact.model_validate(row)
        except ValidationError as exc:
            report.bad(n, _error(exc))
            continue
        try:
            await save_contact(redis, contact)
        except (ValueError, TypeError, OverflowError) as exc:  # e.g. a value msgpack refuses
            report.bad(n, f"row: {exc}")
            continue
        report.imported += 1
    return report


async def save_contact(redis: aioredis.Redis, contact: Contact) -> str:
    """Create or update the contact's profile; returns its profile id."""
    ckey = keys.contact_key(contact.contact_id) if contact.contact_id else None
    ekey = keys.email_key(contact.email) if contact.email else None
    found = await redis.mget([k for k in (ckey, ekey) if k])
    pid = next((text(v) for v in found if v), None)
    if pid is None:
        pid = new_visitor_id()
        # claim the index first: two imports of one contact must not make two profiles
        if not await redis.set(ckey or ekey, pid, nx=True):  # type: ignore[arg-type]
            pid = text(await redis.get(ckey or ekey))  # type: ignore[arg-type]
    now = int(time.time() * 1000)
    p = keys.profile_key(pid, "p")
    fields: dict[Any, Any] = {"contact": contact.contact_id or contact.email}
    if contact.email:
        fields["email"] = contact.email
    if contact.advisor:
        fields["advisor"] = pack(contact.advisor.model_dump())
    if contact.loyalty:
        fields.update(points=contact.loyalty.points, tier=contact.loyalty.tier,
                      next_tier=contact.loyalty.next_tier,
                      points_to_next=contact.loyalty.points_to_next)
    buys = await _merged_purchases(redis, pid, contact.purchases)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hset(p, mapping=fields)
        pipe.hsetnx(p, "created", now)
        if buys is not None:
            pipe.delete(keys.profile_key(pid, "buys"))
            pipe.rpush(keys.profile_key(pid, "buys"), *buys)
        for name, value in contact.attributes.items():
            pipe.hset(keys.profile_key(pid, "attrs"), name, pack(value))
        for name, value in contact.facts.items():
            pipe.hset(keys.profile_key(pid, "facts"), name, pack(value))
        for name, answer in contact.consents.items():
            if isinstance(answer, dict):
                consent = {"granted": bool(answer.get("granted")),
                           "ts": int(answer.get("ts") or now)}
            else:
                consent = {"granted": bool(answer), "ts": now}
            pipe.hset(keys.profile_key(pid, "consents"), name, pack(consent))
        for key in (ckey, ekey):
            if key:
                pipe.set(key, pid)
        for key in keys.profile_keys(pid):
            pipe.persist(key)
        await pipe.execute()
    return pid


async def _merged_purchases(redis: aioredis.Redis, pid: str,
                            purchases: list[PastPurchase]) -> list[bytes] | None:
    """The profile's purchase history with the imported orders in (by order id, so importing
    again changes nothing), newest first and capped; None when there is nothing to import."""
    if not purchases:
        return None
    by_order: dict[str, dict[str, Any]] = {}
    for blob in await redis.lrange(keys.profile_key(pid, "buys"), 0, -1):
        item = unpack(blob)
        if isinstance(item, dict) and item.get("order_id"):
            by_order[str(item["order_id"])] = item
    for purchase in purchases:
        by_order[purchase.order_id] = purchase.row()
    rows = sorted(by_order.values(), key=lambda r: -int(r.get("ts") or 0))
    return [pack(row) for row in rows[: keys.CAPS["buys"]]]
