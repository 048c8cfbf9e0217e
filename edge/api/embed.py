"""The widget script and embed mode.

Routes:

- ``GET /_edge/static/edge.<hash>.js``: the minified script under a content hash, cached for a
  year (``immutable``); gzip or brotli when the client accepts them. An old hash (a page cached
  before a deploy) gets the current script with a short cache rather than a 404.
- ``GET /_edge/edge.js``: the same script under a stable URL with a short cache, for embedders.
- ``GET /_edge/api/slots?url=<page url>&slots=a,b[&title=..][&f.<fact>=..]``: embed mode. Runs
  the same personalization as the proxy (``personalizer.begin`` → ``session.fill``) for a page
  that is not behind the proxy, and answers ``{"slots": {name: html}, "body_end": html}``.
- ``OPTIONS /_edge/api/...``: CORS preflight for every API route, limited to
  ``settings.cors_origins``.

:func:`script_tag` is what the personalizer puts before ``</body>`` of proxied pages.
"""

from __future__ import annotations

import gzip
import hashlib
import html
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import brotli
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from edge.api.common import request_head
from edge.errors import ApiError
from edge.page import Page, RequestHead

log = logging.getLogger("edge.api.embed")

JS_DIR = Path(__file__).resolve().parents[2] / "static" / "js"
STATIC_PREFIX = "/_edge/static/"
IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=300"
MAX_SLOTS = 32
CORS_METHODS = "GET, POST, DELETE, OPTIONS"
CORS_HEADERS = "content-type, x-edge-client"


# --- the script, built once per process ----------------------------------------------------
@dataclass(frozen=True)
class Script:
    body: bytes
    gzip: bytes
    br: bytes
    hash: str

    @property
    def path(self) -> str:
        return f"{STATIC_PREFIX}edge.{self.hash}.js"


def _source() -> str:
    minified = JS_DIR / "edge.min.js"
    if minified.is_file():
        return minified.read_text("utf-8")
    # No build yet (a fresh checkout): serve the readable source with the stylesheet inlined.
    source = (JS_DIR / "edge.js").read_text("utf-8")
    css = json.dumps((JS_DIR / "edge.css").read_text("utf-8")).replace("</", "<\\/")
    return source.replace("'__EDGE_CSS__'", css, 1)


@lru_cache(maxsize=1)
def script() -> Script:
    body = _source().encode("utf-8")
    return Script(body=body, gzip=gzip.compress(body, 9), br=brotli.compress(body, quality=11),
                  hash=hashlib.sha256(body).hexdigest()[:16])


def script_url() -> str:
    return script().path


def script_tag(settings: Any, *, language: str | None = None, fingerprint: bool | None = None,
               inbox: bool = True, **extra: Any) -> str:
    """The ``<script>`` element for proxied pages, with its config as escaped JSON.

    ``fingerprint``: pass False when the visitor refused the ``fingerprint``/``tracking``
    consent; by default it follows ``settings.fingerprint``. ``extra`` keys go into the config
    as they are (see docs/widget-script.md for the keys the script reads).
    """
    config: dict[str, Any] = {
        "lang": language or getattr(settings, "default_language", "en"),
        "currency": getattr(settings, "currency", "PLN"),
        "fingerprint": bool(getattr(settings, "fingerprint", False)
                            if fingerprint is None else fingerprint),
    }
    if not inbox:
        config["inbox"] = False
    config.update(extra)
    data = html.escape(json.dumps(config, separators=(",", ":"), ensure_ascii=False), quote=True)
    return f"<script src=\"{script_url()}\" defer data-edge-config='{data}'></script>"


def _encoded(request: Request, cache_control: str) -> Response:
    s = script()
    accept = request.headers.get("accept-encoding", "").lower()
    headers = {"cache-control": cache_control, "vary": "Accept-Encoding",
               "etag": f'"{s.hash}"', "x-content-type-options": "nosniff"}
    if request.headers.get("if-none-match") == f'"{s.hash}"':
        return Response(status_code=304, headers=headers)
    body = s.body
    if "br" in accept:
        body, headers["content-encoding"] = s.br, "br"
    elif "gzip" in accept:
        body, headers["content-encoding"] = s.gzip, "gzip"
    return Response(body, media_type="text/javascript; charset=utf-8", headers=headers)


async def versioned_script(request: Request) -> Response:
    current = request.path_params["hash"] == script().hash
    return _encoded(request, IMMUTABLE if current else SHORT)


async def embed_script(request: Request) -> Response:
    return _encoded(request, SHORT)


# --- CORS ------------------------------------------------------------------------------------
def allowed_origin(request: Request) -> str | None:
    """The request's Origin if the settings allow it to call the API with credentials."""
    origin = request.headers.get("origin")
    allowed = getattr(request.app.state.settings, "cors_origins", ()) or ()
    if origin and origin.rstrip("/") in {o.rstrip("/") for o in allowed}:
        return origin
    return None


def cors_headers(request: Request) -> dict[str, str]:
    origin = allowed_origin(request)
    if not origin:
        return {}
    return {"access-control-allow-origin": origin, "access-control-allow-credentials": "true",
            "vary": "Origin"}


def with_cors(request: Request, response: Response) -> Response:
    for name, value in cors_headers(request).items():
        if name == "vary" and "vary" in response.headers:
            value = response.headers["vary"] + ", Origin"
        response.headers[name] = value
    return response


def check_write_origin(request: Request) -> None:
    """Refuse a browser write from a page that is neither this host nor an allowed origin.

    Some cross-site writes need no preflight (a bodiless POST, a text/plain body), so CORS alone
    would let another site act with the visitor's cookie when it is SameSite=None."""
    origin = request.headers.get("origin")
    if not origin:  # not sent by a browser page (or a same-origin GET): nothing to check
        return
    if urlsplit(origin).netloc == request.headers.get("host", "") or allowed_origin(request):
        return
    raise ApiError("origin: not allowed to call this API", field="origin", status_code=403)


async def preflight(request: Request) -> Response:
    headers = cors_headers(request)
    if not headers:
        return Response(status_code=403, headers={"vary": "Origin"})
    headers.update({"access-control-allow-methods": CORS_METHODS,
                    "access-control-allow-headers": CORS_HEADERS,
                    "access-control-max-age": "600"})
    return Response(status_code=204, headers=headers)


# --- embed mode: personalize a page that is not behind the proxy -------------------------------
def _slot_names(raw: str) -> tuple[str, ...]:
    names = [n.strip() for n in raw.split(",") if n.strip()]
    if len(names) > MAX_SLOTS:
        raise ApiError(f"slots: at most {MAX_SLOTS} slots", field="slots")
    for name in names:
        if len(name) > 64 or not all(c.isalnum() or c in "-_." for c in name):
            raise ApiError(f"slots: bad slot name {name[:64]!r}", field="slots")
    return tuple(dict.fromkeys(names))


def page_head(request: Request, page_url: str) -> RequestHead:
    """The embedding page as the personalizer sees it: its URL, the browser's own headers."""
    parts = urlsplit(page_url)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(page_url) > 2048:
        raise ApiError("url: must be the page's absolute http(s) URL", field="url")
    head = request_head(request)
    return replace(head, method="GET", path=parts.path or "/", query=parts.query,
                   scheme=parts.scheme, host=parts.netloc)


def page_facts(params: Mapping[str, str]) -> dict[str, str]:
    """``f.page-type=product&f.product=SKU`` → {"page-type": "product", "product": "SKU"}."""
    facts: dict[str, str] = {}
    for key, value in params.items():
        if key.startswith("f.") and 0 < len(key) <= 66 and len(facts) < 32:
            facts[key[2:]] = value[:512]
    return facts


async def _check_rate(request: Request) -> None:
    writer = getattr(getattr(request.app.state, "store", None), "events", None)
    if writer is None:
        return
    try:
        await writer.check_rate(request.client.host if request.client else None, None, 0)
    except ApiError:
        raise
    except Exception as exc:  # Redis trouble: the page keeps its defaults anyway
        log.warning("rate limit not checked: %r", exc)


async def slots(request: Request) -> Response:
    try:
        await _check_rate(request)
        names = _slot_names(request.query_params.get("slots", ""))
        head = page_head(request, request.query_params.get("url", ""))
    except ApiError as exc:
        return with_cors(request, JSONResponse({"error": exc.message, "field": exc.field},
                                               status_code=exc.status_code))
    page = Page(request=head, status=200, slots=names, facts=page_facts(request.query_params),
                title=request.query_params.get("title", "")[:300])
    personalizer = getattr(request.app.state, "personalizer", None)
    payload: dict[str, Any] = {"slots": {}, "body_end": ""}
    headers: list[tuple[bytes, bytes]] = []
    if personalizer is not None:
        session = None
        try:
            session = await personalizer.begin(head)
            headers = session.response_headers()
            fills = await session.fill(page)
            payload = {"slots": {k: v for k, v in fills.slots.items() if k in names},
                       "body_end": fills.body_end}
        except Exception:  # like the proxy: personalization fails open, defaults stay
            log.exception("embed personalization failed for %s", head.url)
        finally:
            if session is not None:
                try:
                    session.finish(page, 200)
                except Exception:
                    log.exception("embed page view not recorded")
    response = JSONResponse(payload, headers={"cache-control": "private, no-store"})
    for name, value in headers:
        response.headers.append(name.decode("latin-1"), value.decode("latin-1"))
    return with_cors(request, response)


routes: list[BaseRoute] = [
    Route("/_edge/static/edge.{hash:str}.js", versioned_script, methods=["GET", "HEAD"]),
    Route("/_edge/edge.js", embed_script, methods=["GET", "HEAD"]),
    Route("/_edge/api/slots", slots, methods=["GET"]),
    Route("/_edge/api/{rest:path}", preflight, methods=["OPTIONS"]),
]
