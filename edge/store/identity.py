"""Who the visitor is: signed cookie → fingerprint fallback → shop login token.

``Identity.identify(request)`` runs on every request. It never raises: bad input yields a fresh
anonymous visitor, and a Redis failure yields an anonymous visitor without touching Redis again.

Security lines:
- a cookie is trusted only if its HMAC verifies (current or previous secret) and it is not expired;
- a fingerprint re-links only to an ANONYMOUS profile that still carries that fingerprint, never
  to a known contact (links are dropped when a profile becomes known, and checked again here),
  and only once that profile has been idle for a visit's length (someone still browsing with
  the cookie is not the cookieless newcomer); a fingerprint seen on two live profiles is marked
  ambiguous and never used again;
- a visitor becomes a known contact only through a token signed with ``settings.shop_secret`` or
  the admin ``identify`` API.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import msgpack
import redis.asyncio as aioredis

from edge.page import RequestHead
from edge.store import keys, rawcall
from edge.store.lua import LINK
from edge.store.mux import for_client
from edge.store.profile import VISIT_IDLE_MS, text
from edge.store.signing import (
    LoginClaims,
    SignedVisitor,
    in_date,
    new_visitor_id,
    read_login_token,
    read_visitor_cookie,
    sign_visitor_id,
)
from edge.store.store import is_profile_id

AMBIGUOUS = b"!"
# Re-issue the cookie once a day so its max-age rolls forward (and at once after a rotation).
REFRESH_AFTER = 24 * 3600
MAX_VERIFIED = 50_000  # verified cookie values kept (~10 MB at most)
CLIENT_SIGNALS_COOKIE = "edge_fp"  # screen, timezone, platform, set by the widget script
CLIENT_SIGNALS_HEADER = "x-edge-client"
FINGERPRINT_CONSENTS = ("fingerprint", "tracking")

log = logging.getLogger("edge.identity")


@dataclass
class Visitor:
    id: str  # the profile id to load
    visitor_id: str  # the id in the visitor's cookie
    known: bool = False
    contact_id: str | None = None
    is_new: bool = False
    cookie_header: str | None = None  # Set-Cookie value when a new or refreshed cookie is due
    via: str = "cookie"  # cookie | fingerprint | login | new | fallback
    extra: dict[str, Any] = field(default_factory=dict)

    def set_cookie_headers(self) -> list[tuple[bytes, bytes]]:
        if not self.cookie_header:
            return []
        return [(b"set-cookie", self.cookie_header.encode("latin-1"))]


def _cookie_attributes(s: Any) -> str:
    """What follows the visitor cookie's value in its Set-Cookie header (the same for every
    visitor: worked out once per Identity)."""
    parts = [f"Max-Age={s.cookie_max_age}", "Path=/"]
    if s.cookie_domain:
        parts.append(f"Domain={s.cookie_domain}")
    parts.append(f"SameSite={s.cookie_samesite.capitalize()}")
    if s.cookie_secure or s.cookie_samesite == "none":
        parts.append("Secure")
    parts.append("HttpOnly")
    return "".join(f"; {part}" for part in parts)


def _login_pending(visitor: Visitor, claims: LoginClaims) -> bool:
    """Whether a login token names a contact this visitor is not yet known as."""
    return not visitor.known or visitor.contact_id != (claims.contact_id or claims.email)


def fingerprint(request: RequestHead) -> str | None:
    """A hash of stable request traits, refined by the widget script's client signals.

    Returns None when there is too little to go on (no User-Agent)."""
    headers = request.headers
    ua = headers.get("user-agent", "")
    if not ua:
        return None
    signals = request.cookie(CLIENT_SIGNALS_COOKIE) or headers.get(CLIENT_SIGNALS_HEADER, "")
    traits = "\n".join((
        ua[:512],
        headers.get("accept-language", "")[:128],
        headers.get("accept-encoding", "")[:128],
        _network(request.client_ip),
        signals[:256],
    ))
    return hashlib.sha256(traits.encode("utf-8", "replace")).hexdigest()[:32]


def _claim_done(future: Any) -> None:
    if future.cancelled():
        return
    try:
        _check_claim(future.result())
    except Exception as exc:
        log.info("a new visitor's fingerprint was not recorded: %r", exc)


def _check_claim(replies: list[Any]) -> None:
    """Raise the error of a claim's transaction, if any (the EXEC reply holds each command's)."""
    rawcall.raise_errors(replies)
    rawcall.raise_errors(replies[-1] or [])


@functools.lru_cache(maxsize=4096)
def _network(ip: str) -> str:
    # /24 for IPv4 and /48 for IPv6: stable across a home router's address changes
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return ""
    prefix = 24 if addr.version == 4 else 48
    return str(ipaddress.ip_network(f"{addr}/{prefix}", strict=False))


class Identity:
    def __init__(self, settings: Any, redis: aioredis.Redis):
        self.settings = settings
        self.redis = redis
        self._link = redis.register_script(LINK)
        # the page path's reads and the new visitor's claim go pre-packed on one pipelined
        # connection (edge.store.mux); other clients (TLS) use redis-py's pipelines
        self._mux = for_client(redis)
        self._secrets = [s for s in (settings.secret, *settings.previous_secrets) if s]
        # Cookie values whose signature verified, and what they said: a returning visitor's
        # cookie is the same string on every page, so its MAC is checked once per process.
        # Dates are still checked on every request; the secrets are fixed for this object.
        self._verified: dict[str, SignedVisitor] = {}
        self._ttl = int(settings.anonymous_ttl_days) * 86400
        self._cookie_attributes = _cookie_attributes(settings)

    # --- cookies -----------------------------------------------------------------------
    def cookie_header(self, visitor_id: str, now: float | None = None) -> str:
        s = self.settings
        return f"{s.cookie_name}={sign_visitor_id(s.secret, visitor_id, now)}" \
            f"{self._cookie_attributes}"

    def read_cookie(self, value: str | None, now: float | None = None) -> str | None:
        signed = read_visitor_cookie(value, self._secrets, self.settings.cookie_max_age, now)
        return signed.visitor_id if signed else None

    def login_claims(self, request: RequestHead) -> LoginClaims | None:
        s = self.settings
        token = request.cookie(s.login_cookie) or request.headers.get(s.login_header)
        return read_login_token(s.shop_secret, token)

    # --- the entry point -----------------------------------------------------------------
    async def identify(self, request: RequestHead) -> Visitor:
        """The visitor behind a request. Never raises."""
        signed = self.signed_cookie(request)
        try:
            return await self._identify(request, signed)
        except Exception:
            # Redis down or slow: an anonymous visitor, no further Redis calls.
            if signed:
                return Visitor(id=signed.visitor_id, visitor_id=signed.visitor_id, via="fallback")
            vid = new_visitor_id()
            return Visitor(id=vid, visitor_id=vid, is_new=True, via="fallback",
                           cookie_header=self.cookie_header(vid))

    async def _identify(self, request: RequestHead, signed: Any) -> Visitor:
        now = time.time()
        claims = self.login_claims(request)
        vid = signed.visitor_id if signed else None
        # A login without a cookie starts clean: a fingerprint match could be a stranger's
        # anonymous profile, which must not be merged into this contact.
        use_fp = self.settings.fingerprint and not (claims and not vid)
        fp = fingerprint(request) if use_fp else None
        reads: list[tuple[str, ...]] = []
        if vid:
            reads.append(("GET", keys.alias_key(vid)))
            reads.append(("HGET", keys.profile_key(vid, "p"), "contact"))
        if fp:
            reads.append(("GET", keys.fingerprint_key(fp)))
        replies = await self._read(reads)
        alias = contact = None
        if vid:
            alias, contact = replies.pop(0), replies.pop(0)
        fp_pid = replies.pop(0) if fp else None

        if vid:
            pid = alias.decode() if alias else vid
            if alias:
                contact = await self.redis.hget(keys.profile_key(pid, "p"), "contact")
            visitor = self._returning(signed, pid, text(contact) if contact else None, now)
            if self.fingerprint_taken(pid, fp, fp_pid):
                await self.mark_ambiguous(fp)
        else:
            visitor = await self._without_cookie(fp, fp_pid)
        if claims and _login_pending(visitor, claims):
            await self._login(visitor, claims)
        return visitor

    def _returning(self, signed: SignedVisitor, pid: str, contact: str | None,
                   now: float) -> Visitor:
        """The visitor behind a valid cookie whose id stands for profile ``pid``."""
        visitor = Visitor(id=pid, visitor_id=signed.visitor_id, via="cookie",
                          known=bool(contact), contact_id=contact or None)
        if pid != signed.visitor_id:
            # The cookie's id was merged into this profile: name the profile itself in the
            # cookie from now on, so later requests need no alias hop.
            visitor.visitor_id = pid
            visitor.cookie_header = self.cookie_header(pid, now)
        if now - signed.issued_at > REFRESH_AFTER or not signed.current:
            visitor.cookie_header = self.cookie_header(visitor.visitor_id, now)
        return visitor

    # --- a returning visitor's page, read along with the profile -------------------------
    def signed_cookie(self, request: RequestHead) -> SignedVisitor | None:
        """The request's visitor cookie, if it verifies."""
        try:
            value = request.cookie(self.settings.cookie_name)
            if not value:
                return None
            max_age = self.settings.cookie_max_age
            signed = self._verified.get(value)
            if signed is not None:
                return signed if in_date(signed, max_age) else None
            signed = read_visitor_cookie(value, self._secrets, max_age)
            if signed is not None:
                if len(self._verified) >= MAX_VERIFIED:
                    self._verified.clear()
                self._verified[value] = signed
            return signed
        except Exception:
            return None

    def page_fingerprint(self, request: RequestHead) -> str | None:
        """The fingerprint a returning visitor's page checks (for collisions), if enabled."""
        return fingerprint(request) if self.settings.fingerprint else None

    def returning(self, request: RequestHead, signed: SignedVisitor,
                  contact: str | None) -> Visitor | None:
        """The visitor behind a valid cookie whose id is no alias, from what the page's
        profile load read (``Store.load_page``): the same as ``identify`` decides. None when
        a login token asks for more (a link or merge): then ``identify`` must run."""
        visitor = self._returning(signed, signed.visitor_id, contact, time.time())
        claims = self.login_claims(request)
        return None if claims and _login_pending(visitor, claims) else visitor

    @staticmethod
    def fingerprint_taken(pid: str, fp: str | None, fp_pid: bytes | None) -> bool:
        """Whether a fingerprint seen on profile ``pid`` points at another live profile."""
        return bool(fp and fp_pid and fp_pid not in (pid.encode(), AMBIGUOUS))

    async def mark_ambiguous(self, fp: str | None) -> None:
        """Two live profiles share this fingerprint: never re-link by it again."""
        if fp:
            await self.redis.set(keys.fingerprint_key(fp), AMBIGUOUS, ex=self._ttl)

    async def _without_cookie(self, fp: str | None, fp_pid: bytes | None) -> Visitor:
        if fp and fp_pid and fp_pid != AMBIGUOUS:
            candidate = fp_pid.decode()
            verdict = await self._relinkable(candidate, fp) if is_profile_id(candidate) \
                else "stale"
            if verdict == "relink":
                return Visitor(id=candidate, visitor_id=candidate, via="fingerprint",
                               cookie_header=self.cookie_header(candidate))
            if verdict == "live":
                # Someone is browsing under that profile right now, with its cookie: this
                # cookieless request with the same traits is another device (NAT, identical
                # phones). Two live profiles share the fingerprint: it never re-links again,
                # so neither can later be handed the other's profile.
                await self.mark_ambiguous(fp)
                fp_pid = AMBIGUOUS
        vid = new_visitor_id()
        visitor = Visitor(id=vid, visitor_id=vid, is_new=True, via="new",
                          cookie_header=self.cookie_header(vid))
        if fp and fp_pid != AMBIGUOUS:
            await self._claim(vid, fp)
        return visitor

    async def _read(self, commands: list[tuple[str, ...]]) -> list[Any]:
        """Read-only commands, pipelined in one round trip."""
        if not commands:
            return []
        if self._mux is not None:
            packed = b"".join(rawcall.encode(command) for command in commands)
            return await rawcall.call_many(self.redis, packed, len(commands))
        pipe = self.redis.pipeline(transaction=False)
        for command in commands:
            pipe.execute_command(*command)
        return list(await pipe.execute())

    async def _claim(self, vid: str, fp: str) -> None:
        """Record a new visitor's fingerprint on its fresh profile, and point the fingerprint
        at it, in one transaction. On the pipelined connection it is sent without waiting for
        the answer: a claim that fails only means this visitor cannot be re-linked later."""
        p_key = keys.profile_key(vid, "p")
        if self._mux is None:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.hset(p_key, mapping={"fp": fp, "last_seen": int(time.time() * 1000)})
                pipe.expire(p_key, self._ttl)
                pipe.set(keys.fingerprint_key(fp), vid, ex=self._ttl)
                await pipe.execute()
            return
        packed = b"".join(rawcall.encode(command) for command in (
            ("MULTI",),
            ("HSET", p_key, "fp", fp, "last_seen", int(time.time() * 1000)),
            ("EXPIRE", p_key, self._ttl),
            ("SET", keys.fingerprint_key(fp), vid, "EX", self._ttl),
            ("EXEC",)))
        sent = self._mux.send_nowait(packed, 5)
        if sent is None:  # no connection open right now: connect and wait
            _check_claim(await self._mux.call_many(packed, 5))
        else:
            sent.add_done_callback(_claim_done)

    async def _relinkable(self, pid: str, fp: str) -> str:
        """Whether a cookieless visitor may re-join profile ``pid``, which fingerprint ``fp``
        points at: "relink" only for an anonymous profile that still carries this fingerprint,
        did not refuse it and is idle; "live" when someone is active under it right now;
        "stale" when the link no longer holds (a known contact, another fingerprint, refused)."""
        (contact, stored_fp, last_seen), consents = await self._read([
            ("HMGET", keys.profile_key(pid, "p"), "contact", "fp", "last_seen"),
            ("HMGET", keys.profile_key(pid, "consents"), *FINGERPRINT_CONSENTS)])
        if contact or stored_fp != fp.encode():
            return "stale"
        for blob in consents:
            if blob is not None:
                value = msgpack.unpackb(blob, raw=False)
                if isinstance(value, dict) and value.get("granted") is False:
                    return "stale"
        if last_seen and time.time() * 1000 - float(last_seen) <= VISIT_IDLE_MS:
            return "live"
        return "relink"

    async def _login(self, visitor: Visitor, claims: LoginClaims) -> None:
        pid, outcome = await self.link(visitor.id, claims.contact_id, claims.email)
        if outcome == "other" and pid == visitor.id:
            # this device's profile belongs to another contact: start a fresh one for this one
            fresh = new_visitor_id()
            pid, outcome = await self.link(fresh, claims.contact_id, claims.email)
        if pid != visitor.id:
            if outcome == "other" or pid != await self._alias_of(visitor.visitor_id):
                # the cookie switches to the contact's profile
                visitor.visitor_id = pid
                visitor.cookie_header = self.cookie_header(pid)
            visitor.id = pid
        visitor.known = True
        visitor.contact_id = claims.contact_id or claims.email
        visitor.via = "login"

    async def _alias_of(self, vid: str) -> str | None:
        value = await self.redis.get(keys.alias_key(vid))
        return text(value) if value else None

    async def link(self, profile_id: str, contact_id: str | None,
                   email: str | None) -> tuple[str, str]:
        """Make ``profile_id`` (an anonymous profile or visitor id) the contact's: claim it, or
        merge it into the contact's profile. Atomic and idempotent.

        Returns (known profile id, "claimed" | "merged" | "same" | "other")."""
        cid = (contact_id or "").strip()
        mail = (email or "").strip().lower()
        if not cid and not mail:
            raise ValueError("a contact_id or an email is needed")
        args = [
            profile_id, cid, mail, int(time.time() * 1000),
            keys.contact_key(cid) if cid else "", keys.email_key(mail) if mail else "",
            msgpack.packb(list(keys.PROFILE_PARTS)), msgpack.packb(keys.CAPS),
        ]
        pid, outcome = await self._link(keys=[], args=args)
        return pid.decode(), outcome.decode()
