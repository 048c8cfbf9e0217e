"""The edge's exceptions, as one tree. Library errors are mapped to these at the boundary
(``raise ... from exc``) and turned into responses in one place (``edge.proxy``/``edge.api``).

EdgeError
├── SettingsError          bad settings, raised at start-up
├── OriginError            the shop's server could not be used  → 502
│   └── OriginTimeout      it did not answer in time            → 504
├── ClientGone             the visitor left mid-request; nothing is sent
├── StoreError             Redis failed; pages pass through unpersonalized
├── IdentityError          a cookie, token or fingerprint was not acceptable
├── ApiError               a bad API request                     → 4xx with a message
│   ├── AuthError          missing or wrong admin token          → 401
│   └── RateLimited        too many requests                     → 429
├── RuleError              a rule file is invalid (names file, rule and field)
├── WidgetError            a widget failed; its slot keeps the shop's default content
└── RewriteError           a page could not be rewritten safely; it goes out unchanged
"""

from __future__ import annotations


class EdgeError(Exception):
    pass


class SettingsError(EdgeError):
    pass


class OriginError(EdgeError):
    pass


class OriginTimeout(OriginError):
    pass


class ClientGone(EdgeError):
    pass


class StoreError(EdgeError):
    pass


class IdentityError(EdgeError):
    pass


class ApiError(EdgeError):
    status_code = 400

    def __init__(self, message: str, *, field: str | None = None, status_code: int | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if status_code is not None:
            self.status_code = status_code


class AuthError(ApiError):
    status_code = 401


class RateLimited(ApiError):
    status_code = 429


class RuleError(EdgeError):
    def __init__(self, message: str, *, file: str | None = None, rule: str | None = None,
                 field: str | None = None):
        where = ":".join(p for p in (file, rule, field) if p)
        super().__init__(f"{where}: {message}" if where else message)
        self.file, self.rule, self.field = file, rule, field


class WidgetError(EdgeError):
    pass


class RewriteError(EdgeError):
    pass
