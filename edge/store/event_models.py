"""The events the widget script and the shop send, validated whole before anything is written.

``parse_batch(body, max_events)`` returns typed events or raises ``ApiError`` naming the first
bad field as ``events[3].sku: Field required``.
"""

from __future__ import annotations

import functools
import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from edge.errors import ApiError

Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")]
Sku = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[^\s|]+$")]
Text = Annotated[str, Field(max_length=512)]
Url = Annotated[str, Field(min_length=1, max_length=2048)]
Scalar = str | int | float | bool | None
Money = Annotated[float, Field(ge=0, le=1e9)]
MAX_MAP_BYTES = 4096


MAX_DEPTH = 8


def _depth(value: Any, limit: int) -> int:
    if limit < 0:
        return 0
    if isinstance(value, dict):
        return 1 + max((_depth(v, limit - 1) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v, limit - 1) for v in value), default=0)
    return 0


def _small_map(value: dict[str, Any]) -> dict[str, Any]:
    if _depth(value, MAX_DEPTH + 1) > MAX_DEPTH:
        raise ValueError(f"must be nested at most {MAX_DEPTH} levels deep")
    if len(json.dumps(value, default=str)) > MAX_MAP_BYTES:
        raise ValueError(f"must be at most {MAX_MAP_BYTES} bytes as JSON")
    return value


class _Event(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    ts: Annotated[int, Field(ge=0, le=10**14)] | None = None  # epoch ms


class PageView(_Event):
    type: Literal["page_view"]
    url: Url
    title: Text = ""
    duration_ms: Annotated[int, Field(ge=0, le=24 * 3600 * 1000)] = 0
    referrer: Annotated[str, Field(max_length=2048)] = ""


class ProductView(_Event):
    type: Literal["product_view"]
    sku: Sku


class AddToCart(_Event):
    type: Literal["add_to_cart"]
    sku: Sku
    qty: Annotated[int, Field(ge=1, le=10_000)] = 1
    price: Money | None = None


class RemoveFromCart(_Event):
    type: Literal["remove_from_cart"]
    sku: Sku


class Item(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    sku: Sku
    qty: Annotated[int, Field(ge=1, le=10_000)] = 1
    price: Money = 0


class Purchase(_Event):
    type: Literal["purchase"]
    order_id: Annotated[str, Field(min_length=1, max_length=128)]
    items: Annotated[list[Item], Field(max_length=200)]
    value: Money
    currency: Annotated[str, Field(min_length=3, max_length=3, pattern=r"^[A-Za-z]{3}$")]


class Like(_Event):
    type: Literal["like", "unlike"]
    sku: Sku


class FormSubmit(_Event):
    type: Literal["form_submit"]
    form: Name
    fields: dict[str, Scalar] = {}

    _fields_size = field_validator("fields")(_small_map)


class ConsentEvent(_Event):
    type: Literal["consent"]
    name: Name
    granted: bool


class Preference(_Event):
    type: Literal["preference"]
    name: Name
    value: Scalar | Annotated[list[Scalar], Field(max_length=50)]


class Custom(_Event):
    type: Literal["custom"]
    name: Name
    params: dict[str, Any] = {}

    _params_size = field_validator("params")(_small_map)


class Feedback(_Event):
    type: Literal["impression", "click", "close"]
    placement: Name
    variant: Name | None = None
    sku: Sku | None = None


Event = Annotated[
    PageView | ProductView | AddToCart | RemoveFromCart | Purchase | Like | FormSubmit
    | ConsentEvent | Preference | Custom | Feedback,
    Field(discriminator="type"),
]
EVENT_TYPES = ("page_view", "product_view", "add_to_cart", "remove_from_cart", "purchase", "like",
               "unlike", "form_submit", "consent", "preference", "custom", "impression", "click",
               "close")
# mypy reads the Annotated union as a value, not as the type form pydantic takes it for.
_adapter: TypeAdapter[Event] = TypeAdapter(Event)  # type: ignore[arg-type]
_TYPE_TAGS = {"str", "int", "float", "bool", "none", "list", "dict"}


def parse_batch(body: Any, max_events: int) -> list[Any]:
    """Validate a whole batch; raise ApiError naming the first bad field."""
    if not isinstance(body, dict):
        raise ApiError('events: the body must be a JSON object {"events": [...]}', field="events")
    events = body.get("events")
    if not isinstance(events, list):
        raise ApiError("events: must be a list", field="events")
    if not events:
        raise ApiError("events: must not be empty", field="events")
    if len(events) > max_events:
        raise ApiError(f"events: at most {max_events} events per batch", field="events",
                       status_code=413)
    parsed = []
    for i, raw in enumerate(events):
        where = f"events[{i}]"
        if not isinstance(raw, dict):
            raise ApiError(f"{where}: must be an object", field=where)
        if raw.get("type") not in EVENT_TYPES:
            raise ApiError(f"{where}.type: must be one of {', '.join(EVENT_TYPES)}",
                           field=f"{where}.type")
        try:
            parsed.append(_adapter.validate_python(raw))
        except ValidationError as exc:
            err = exc.errors()[0]
            # drop the union tag pydantic puts first in the location
            loc = []
            for part in err["loc"][1:]:
                if isinstance(part, str) and (part in _TYPE_TAGS or "[" in part):
                    break  # pydantic names the union member it tried: not a field
                loc.append(str(part))
            path = where + "".join(f"[{p}]" if p.isdigit() else f".{p}" for p in loc)
            msg = err["msg"]
            if err["type"] == "missing":
                msg = "field required"
            raise ApiError(f"{path}: {msg}", field=path) from None
    return parsed


# --- events the edge makes itself --------------------------------------------------------------
# Built with the models' own validation (a few microseconds), not through ``parse_batch``: their
# values come from the edge, and a name a rule file allows but an event does not (e.g. longer
# than 64 characters) still raises ValidationError, as it would from the events API.


@functools.lru_cache(maxsize=4096)
def page_view(url: str, title: str = "") -> PageView:
    """A proxied page the edge served, its URL and title cut to the model's bounds. The
    model is frozen and a shop's pages repeat, so each (URL, title) is built once and shared:
    it holds nothing of a visitor, and it is only ever written to each visitor's own profile."""
    return PageView(type="page_view", url=url[:2048], title=title[:512])


@functools.lru_cache(maxsize=1024)
def impression(placement: str, variant: str) -> Feedback:
    """A control-arm exposure: the same few per rule set, frozen, so built once and shared."""
    return Feedback(type="impression", placement=placement, variant=variant)
