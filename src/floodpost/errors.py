"""Errors that carry their HTTP meaning; the web layer renders them in one handler."""

from __future__ import annotations

from typing import Any


class FloodpostError(Exception):
    status = 500
    code = "error"

    def __init__(self, message: str, *, field: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.extra = extra

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.code, "detail": self.message}
        if self.field:
            body["field"] = self.field
        body.update(self.extra)
        return body


class BadRequest(FloodpostError):
    """A malformed or unknown query parameter (OGC API answers these with 400, not 422)."""

    status = 400
    code = "bad_request"


class InvalidInput(FloodpostError):
    status = 422
    code = "invalid"


class InvalidReport(InvalidInput):
    code = "invalid_report"


class InvalidOrder(InvalidInput):
    code = "invalid_order"


class InvalidRoster(InvalidInput):
    """A household roster that cannot be imported; names the row and the column."""

    code = "invalid_roster"


class Conflict(FloodpostError):
    status = 409
    code = "conflict"


class NotFound(FloodpostError):
    status = 404
    code = "not_found"


class Unauthorized(FloodpostError):
    status = 401
    code = "unauthorized"
    # The WWW-Authenticate challenge sent with the 401 (RFC 9110 §11.6.1).
    challenge = "Bearer"


class BasicUnauthorized(Unauthorized):
    """401 on a route that also takes HTTP Basic (GIS clients only answer a Basic challenge)."""

    challenge = 'Basic realm="floodpost", charset="UTF-8"'


class Forbidden(FloodpostError):
    status = 403
    code = "forbidden"


class Throttled(FloodpostError):
    status = 429
    code = "throttled"


class TooLarge(FloodpostError):
    status = 413
    code = "too_large"


class Unavailable(FloodpostError):
    """The store was closed (the server is shutting down): try again shortly."""

    status = 503
    code = "unavailable"


class ConfigError(FloodpostError):
    """Bad configuration or bad data files: raised at start-up, never per request."""

    code = "config"


class LayerError(ConfigError):
    """A geodata file that does not follow its layer's schema (names file and field)."""

    code = "layer"


class WarmingUp(FloodpostError):
    """The in-memory roll-ups are still being built (start-up, or a reseed): the statistics and
    the live picture answer at once with the progress instead of waiting (issue 14 §5). Not a
    store fault: /healthz stays "ok" (it shows the progress)."""

    status = 503
    code = "warming_up"

    def __init__(self, progress: dict[str, Any], *, retry_after_s: int) -> None:
        self.percent = percent = int(float(progress.get("fraction") or 0.0) * 100)
        super().__init__(
            f"statistics are warming up ({percent}%); try again shortly",
            progress=progress,
            retry_after_s=retry_after_s,
        )
