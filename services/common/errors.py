"""Errors that cross service boundaries.

Each error travels over nameko RPC as itself (every subclass registers with nameko's
deserialisation registry), so the gateway can turn it into the JSON envelope of the
HTTP API with its field details. Services subclass these in their own ``exceptions.py``.
"""

from typing import Any

from nameko.exceptions import deserialize_to_instance

Details = dict[str, Any]
"""What was wrong, per field: ``{"phone": ["Unknown member."]}``."""


class KomporError(Exception):
    """Base of every error a caller is meant to see."""

    code = "INTERNAL_ERROR"
    status = 500

    def __init_subclass__(
        cls, code: str | None = None, status: int | None = None, **kwargs: Any
    ) -> None:
        super().__init_subclass__(**kwargs)
        cls.code = code or cls.code
        cls.status = status or cls.status
        deserialize_to_instance(cls)

    def __init__(self, message: str, details: Details | None = None) -> None:
        super().__init__(message, details or {})
        self.message = message
        self.details = details or {}

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            error["details"] = self.details
        return {"error": error}


# the error table: each kind of error a caller can see, its code and its HTTP status
class ValidationError(KomporError, code="VALIDATION_ERROR", status=400): ...


class Unauthenticated(KomporError, code="UNAUTHENTICATED", status=401): ...


class Forbidden(KomporError, code="FORBIDDEN", status=403): ...


class NotFound(KomporError, code="NOT_FOUND", status=404): ...


class Conflict(KomporError, code="CONFLICT", status=409): ...


class PayloadTooLarge(KomporError, code="PAYLOAD_TOO_LARGE", status=413): ...


class RateLimited(KomporError, code="RATE_LIMITED", status=429): ...


class ServiceUnavailable(KomporError, code="SERVICE_UNAVAILABLE", status=503): ...


EXPECTED = (KomporError,)
"""What service entrypoints declare in ``expected_exceptions``."""


def invalid(field: str, message: str) -> ValidationError:
    """A ValidationError about one field: ``invalid("phone", "Send ...")``."""
    return ValidationError(f"Invalid {field}.", {field: [message]})
