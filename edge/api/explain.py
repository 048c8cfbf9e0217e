"""What marketers ask of the rules (admin token):

``GET /_edge/api/explain?visitor=<profile id>|contact=<id>&url=<page path or URL>``: why a
visitor sees what they see on a page.

``GET /_edge/api/experiments[?metric=clicks|conversions]``: per A/B/X experiment and arm,
impressions, clicks, conversions, CTR, uplift against the baseline and the probability of
being best, plus the arm shares in force once the test is over.

The page is fetched from the origin and scanned like a proxied page (its slots and its
``edge:*`` facts), the visitor's profile is loaded, and the rule engine's explain runs on the
same context the proxy would build: every rule considered, each condition held or failed,
caps, experiment assignments and the resulting decision.
"""

from __future__ import annotations

import asyncio
import time
from urllib.parse import quote, urljoin, urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from edge.api.common import api_endpoint, require_admin
from edge.contexts import rules_context
from edge.errors import ApiError, OriginError
from edge.origin import OriginClient
from edge.page import Page, RequestHead
from edge.results import load_experiment_counters
from edge.slots import SlotPlanner
from edge.store import keys
from edge.store.profile import text
from rules import explain, summarize

_planner = SlotPlanner(verify=True, cache_size=32)


async def _profile_id(request: Request) -> str:
    state = request.app.state
    visitor = request.query_params.get("visitor", "").strip()
    contact = request.query_params.get("contact", "").strip()
    if visitor:
        return str(await state.store.resolve(visitor))
    if contact:
        pid = await state.redis.get(keys.contact_key(contact))
        if pid is None:
            pid = await state.redis.get(keys.email_key(contact))
        if pid is None:
            raise ApiError(f"no profile for contact {contact!r}", field="contact", status_code=404)
        return text(pid)
    raise ApiError("give visitor=<profile id> or contact=<contact id or e-mail>", field="visitor")


_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_QUERY_SAFE = _PATH_SAFE + "?"


async def _fetch(client: OriginClient, target: str, redirects: int = 5) -> tuple[int, bytes]:
    """GET a page from the shop as a browser would see it: redirects within the shop followed
    (at most ``redirects``)."""
    for _ in range(redirects + 1):
        async with await client.request("GET", target) as resp:
            body = await resp.read()
            location = next((v for k, v in resp.raw_headers if k.lower() == b"location"), None)
            if resp.status not in (301, 302, 303, 307, 308) or location is None:
                return resp.status, body
        url = urljoin(client.origin + target, location.decode("latin-1"))
        next_target = client.target_of(url)
        if next_target is None:
            raise OriginError(f"{target} redirects off the shop, to {url}")
        target = next_target
    raise OriginError(f"more than {redirects} redirects from {target}")


async def _page(request: Request, url: str) -> Page:
    state = request.app.state
    parts = urlsplit(url)
    path = parts.path or "/"
    head = RequestHead(method="GET", path=path, query=parts.query,
                       headers={k.lower(): v for k, v in request.headers.items()
                                if k.lower() in ("accept-language", "user-agent")},
                       client_ip="", scheme="http", host=request.headers.get("host", ""))
    # As a browser sends it: spaces and non-ASCII percent-encoded, what is encoded kept so.
    target = quote(path, safe=_PATH_SAFE) + (
        f"?{quote(parts.query, safe=_QUERY_SAFE)}" if parts.query else "")
    try:
        async with asyncio.timeout(state.settings.origin_timeout):
            status, body = await _fetch(state.origin_client, target)
    except Exception as exc:
        raise ApiError(f"could not fetch {path} from the shop: {exc!r}", field="url",
                       status_code=502) from exc
    plan = _planner.plan(body)
    return Page(request=head, status=status, slots=plan.slots, facts=plan.facts,
                title=plan.title)


@api_endpoint
async def get_explain(request: Request) -> Response:
    require_admin(request)
    state = request.app.state
    url = request.query_params.get("url", "").strip()
    if not url:
        raise ApiError("url: required (a path on the shop, e.g. /p/SKU-1)", field="url")
    personalizer = state.personalizer
    ruleset = getattr(personalizer, "ruleset", None)
    if ruleset is None:
        raise ApiError("no rules are loaded (set rules_dir)", status_code=409)
    pid = await _profile_id(request)
    profile = await state.store.load(pid)
    page = await _page(request, url)
    language = str(profile.attributes.get("language") or state.settings.default_language)
    ctx = rules_context(profile, page, known=profile.known, language=language, now=time.time())
    shared = getattr(personalizer, "shared", None)
    result = explain(ruleset, ctx, weights=getattr(shared, "weights", None) or None)
    result["page"] = {"url": url, "slots": list(page.slots), "facts": dict(page.facts)}
    result["profile_id"] = pid
    rules_store = getattr(personalizer, "rules", None)
    error = getattr(rules_store, "last_error", None)
    result["rules_error"] = str(error) if error else None
    return JSONResponse(result)


@api_endpoint
async def get_experiments(request: Request) -> Response:
    require_admin(request)
    state = request.app.state
    metric = request.query_params.get("metric", "clicks")
    if metric not in ("clicks", "conversions"):
        raise ApiError("metric: must be clicks or conversions", field="metric")
    personalizer = state.personalizer
    ruleset = getattr(personalizer, "ruleset", None)
    if ruleset is None:
        raise ApiError("no rules are loaded (set rules_dir)", status_code=409)
    counters = await load_experiment_counters(state.redis, ruleset)
    shared = getattr(personalizer, "shared", None)
    weights = getattr(shared, "weights", None) or {}
    now = time.time()
    out = {}
    for exp in ruleset.experiments.values():
        arms = {arm: counters.get(exp.id, {}).get(arm, {}) for arm in exp.arms}
        out[exp.id] = {
            "status": "running" if exp.running(now) else "finished",
            "test_weights": exp.test_weights(),
            "weights_in_force": weights.get(exp.id),
            "results": summarize(arms, metric=metric),
        }
    return JSONResponse({"experiments": out})


routes: list[BaseRoute] = [
    Route("/_edge/api/explain", get_explain, methods=["GET"]),
    Route("/_edge/api/experiments", get_experiments, methods=["GET"]),
]
