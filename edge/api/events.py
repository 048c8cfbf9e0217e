"""POST /_edge/api/events: the widget script's and the shop's visitor events.

Body ``{"events": [...]}``; the visitor comes from the signed cookie (a new visitor gets one in
the answer). The batch is size-checked, rate-limited, validated whole, then applied atomically:
a bad payload is a 4xx and writes nothing. Answers carry CORS headers for
``settings.cors_origins`` (the preflight is ``edge.api.embed``'s).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from edge.api.common import api_endpoint, client_ip, json_response, read_json, request_head
from edge.api.embed import check_write_origin, with_cors
from edge.errors import ApiError
from edge.store.event_models import parse_batch


@api_endpoint
async def _post_events(request: Request) -> Response:
    # A page on another site may not write events with the visitor's cookie (some cross-site
    # POSTs need no CORS preflight).
    check_write_origin(request)
    state = request.app.state
    settings = state.settings
    writer = state.store.events
    ip = client_ip(request)
    try:
        events = parse_batch(await read_json(request), settings.max_event_batch)
    except ApiError:
        await writer.check_rate(ip, None, 0)  # refused requests count against the address too
        raise
    visitor = await state.identity.identify(request_head(request))
    # rate counters, reads and the write: two round trips after identify
    visit, new_visit = await writer.apply(visitor.id, events, limit_ip=ip, limit_visitor=True)
    return json_response(
        {"accepted": len(events), "visitor": {"known": visitor.known, "visit": visit,
                                              "new_visit": new_visit}},
        headers=visitor.set_cookie_headers(),
    )


async def post_events(request: Request) -> Response:
    # the widget script may post from a shop page not behind the proxy (embed mode)
    return with_cors(request, await _post_events(request))


routes: list[BaseRoute] = [Route("/_edge/api/events", post_events, methods=["POST"])]
