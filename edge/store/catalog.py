"""The product catalog in Redis: ``edge:catalog`` (hash sku → msgpack product) and a version
counter bumped on every change, so in-process caches know when to reload.

Product schema (validated by ``Product``)::

    {"sku", "name", "url", "image", "price", "currency", "category" ("a/b/c"),
     "attributes": {name: str | number}, "stock", "created_at" (ISO date), "description"?}
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Annotated, Any

import redis.asyncio as aioredis
from pydantic import BaseModel, ConfigDict, Field, field_validator

from edge.store import keys
from edge.store.profile import pack, unpack


class Product(BaseModel):
    model_config = ConfigDict(extra="ignore")

    sku: Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[^\s|]+$")]
    name: Annotated[str, Field(min_length=1, max_length=512)]
    url: Annotated[str, Field(min_length=1, max_length=2048)]
    image: Annotated[str, Field(max_length=2048)] = ""
    price: Annotated[float, Field(ge=0, le=1e9)]
    currency: Annotated[str, Field(min_length=3, max_length=3)]
    category: Annotated[str, Field(max_length=512)] = ""
    attributes: dict[str, str | int | float] = {}
    stock: Annotated[int, Field(ge=0)] = 0
    created_at: str = ""
    description: Annotated[str, Field(max_length=20_000)] | None = None

    @field_validator("created_at")
    @classmethod
    def _iso_date(cls, value: str) -> str:
        if value:
            dt.date.fromisoformat(value[:10])  # raises ValueError with a clear message
        return value

    @field_validator("category")
    @classmethod
    def _path(cls, value: str) -> str:
        return "/".join(p.strip() for p in value.split("/") if p.strip())

    @field_validator("currency")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()

    def row(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


async def save_products(redis: aioredis.Redis, products: Iterable[Product]) -> int:
    """Write products (one MULTI) and bump the catalog version. Returns how many were written."""
    mapping: dict[Any, Any] = {p.sku: pack(p.row()) for p in products}
    if not mapping:
        return 0
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hset(keys.catalog_key(), mapping=mapping)
        pipe.incr(keys.catalog_version_key())
        await pipe.execute()
    return len(mapping)


async def delete_products(redis: aioredis.Redis, skus: Iterable[str]) -> int:
    skus = list(skus)
    if not skus:
        return 0
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hdel(keys.catalog_key(), *skus)
        pipe.incr(keys.catalog_version_key())
        removed, _ = await pipe.execute()
    return int(removed)


async def catalog_version(redis: aioredis.Redis) -> int:
    return int(await redis.get(keys.catalog_version_key()) or 0)


async def load_catalog(redis: aioredis.Redis) -> list[dict[str, Any]]:
    """Every product, sorted by sku."""
    rows = await redis.hgetall(keys.catalog_key())
    out = []
    for _sku, blob in sorted(rows.items()):
        product = unpack(blob)
        if isinstance(product, dict):
            out.append(product)
    return out


async def get_product(redis: aioredis.Redis, sku: str) -> dict[str, Any] | None:
    product = unpack(await redis.hget(keys.catalog_key(), sku))
    return product if isinstance(product, dict) else None
