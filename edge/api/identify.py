"""POST /_edge/api/identify (admin token): the shop's server tells the edge who a visitor is.

Body: ``{"visitor_id": str}`` or ``{"cookie": "<the visitor's edge cookie value>"}``, plus
``"contact_id"`` and/or ``"email"``, and optional ``"attributes": {...}``. The visitor's
anonymous profile is merged into the contact's (or becomes it). Answer:
``{"profile_id": ..., "result": "claimed" | "merged" | "same"}``; 409 if the visitor is
already another contact.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from edge.api.common import api_endpoint, json_response, read_json, require_admin
from edge.errors import ApiError
from edge.store import keys
from edge.store.profile import pack
from edge.store.store import is_profile_id

Scalar = str | int | float | bool | None


class IdentifyBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    visitor_id: Annotated[str, Field(max_length=64)] | None = None
    cookie: Annotated[str, Field(max_length=512)] | None = None
    contact_id: Annotated[str, Field(max_length=200)] | None = None
    email: Annotated[str, Field(max_length=320)] | None = None
    attributes: dict[str, Scalar | list[Scalar]] = {}


def _parse(body: Any) -> IdentifyBody:
    try:
        parsed = IdentifyBody.model_validate(body)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "body"
        msg = "field required" if err["type"] == "missing" else err["msg"]
        raise ApiError(f"{where}: {msg}", field=where) from None
    if not (parsed.contact_id or "").strip() and not (parsed.email or "").strip():
        raise ApiError("contact_id: contact_id or email is required", field="contact_id")
    if parsed.email and "@" not in parsed.email:
        raise ApiError("email: not an e-mail address", field="email")
    return parsed


@api_endpoint
async def post_identify(request: Request) -> Response:
    require_admin(request)
    state = request.app.state
    body = _parse(await read_json(request))
    if body.cookie is not None:
        visitor_id = state.identity.read_cookie(body.cookie)
        if visitor_id is None:
            raise ApiError("cookie: not a valid edge cookie", field="cookie")
    elif body.visitor_id is not None:
        if not is_profile_id(body.visitor_id):
            raise ApiError("visitor_id: not a visitor id", field="visitor_id")
        visitor_id = body.visitor_id
    else:
        raise ApiError("visitor_id: visitor_id or cookie is required", field="visitor_id")
    pid, outcome = await state.identity.link(visitor_id, body.contact_id, body.email)
    if outcome == "other":
        # never merge one known contact into another
        raise ApiError("visitor_id: this visitor is already another contact", field="visitor_id",
                       status_code=409)
    if body.attributes:
        await state.redis.hset(keys.profile_key(pid, "attrs"),
                               mapping={k: pack(v) for k, v in body.attributes.items()})
    return json_response({"profile_id": pid, "result": outcome})


routes: list[BaseRoute] = [Route("/_edge/api/identify", post_identify, methods=["POST"])]
