"""Profile export and deletion (admin token).

GET    /_edge/api/profiles/{id}   the profile as JSON (404 if there is none)
DELETE /_edge/api/profiles/{id}   the profile and every link to it: contact and e-mail index,
                                  fingerprint link, cookie aliases (404 if there was none)

``{id}`` is a profile id or a visitor id from a cookie (resolved through its alias).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from edge.api.common import api_endpoint, json_response, require_admin
from edge.errors import ApiError
from edge.store.store import is_profile_id


async def _profile_id(request: Request) -> str:
    raw = request.path_params["profile_id"]
    if not is_profile_id(raw):
        raise ApiError("profile_id: not a profile id", field="profile_id", status_code=404)
    return str(await request.app.state.store.resolve(raw))


@api_endpoint
async def get_profile(request: Request) -> Response:
    require_admin(request)
    pid = await _profile_id(request)
    data = await request.app.state.store.export(pid)
    if data is None:
        raise ApiError("profile_id: no such profile", field="profile_id", status_code=404)
    return json_response(data)


@api_endpoint
async def delete_profile(request: Request) -> Response:
    require_admin(request)
    pid = await _profile_id(request)
    if not await request.app.state.store.delete(pid):
        raise ApiError("profile_id: no such profile", field="profile_id", status_code=404)
    return json_response({"deleted": pid})


routes: list[BaseRoute] = [
    Route("/_edge/api/profiles/{profile_id}", get_profile, methods=["GET"]),
    Route("/_edge/api/profiles/{profile_id}", delete_profile, methods=["DELETE"]),
]
