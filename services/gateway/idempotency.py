"""The ``Idempotency-Key`` header as the routes declare and pass it on.

Every route that writes declares the header (``headers=key_header(…)``), so the API
document shows it per operation and the gateway's header checks apply to it. The
gateway only passes the value to the service that writes: the answer to a repeat is
decided there, together with the write (``services/common/idempotency.py``), because
the gateway may have given up on a call that the service still completes.
"""

from typing import Any

from services.common.idempotency import IDEMPOTENCY_HEADER, KEY_ARGUMENT, MAX_KEY_LENGTH

KEY_SCHEMA = {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": "[^ \t]"}


def key_header(required: bool = False) -> dict[str, dict[str, Any]]:
    """The header's entry for a route's ``headers=``."""
    if required:
        description = (
            "Required. Unique per change you mean to make (a UUID is good); send the same "
            "key when you retry, and the change is made once."
        )
    else:
        description = (
            "Optional. Send one to retry safely: the same key and body answer as the first "
            "time; the same key with another body is a 409."
        )
    return {
        IDEMPOTENCY_HEADER: {"required": required, "description": description, "schema": KEY_SCHEMA}
    }


def key_of(request: Any) -> dict[str, str | None]:
    """The keyword argument that passes the request's key to the service's RPC."""
    return {KEY_ARGUMENT: request.headers.get(IDEMPOTENCY_HEADER)}
