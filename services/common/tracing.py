"""One request id end to end (docs/architecture.md §16).

The gateway takes a request's ``X-Request-ID`` (or makes one) and puts it in the
worker's context data under ``request_id``: nameko sends context data along with
every RPC the worker makes (``nameko.request_id`` header), and so on down nested
calls. Every event written while handling it carries the id on its outbox entry
(``envelope.make_event``) and, once published, in its AMQP headers as
``correlation_id``; a handler of that event runs with the id again, so the events it
writes carry it on. Retries and dead letters keep the message's headers.

``current()`` is what the running worker is about (request id, event type and id);
the log filter (``services.common.logs``) puts it on every record.
"""

import contextvars
import re
import uuid
from collections.abc import Mapping
from typing import Any

REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID = "request_id"
"""The worker context data key (and log field) of the request id."""
CORRELATION_HEADER = "correlation_id"
"""The AMQP header of a published event that names the request it came from."""
MAX_REQUEST_ID = 64
SAFE_REQUEST_ID = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._:-]{{0,{MAX_REQUEST_ID - 1}}}")

_context: contextvars.ContextVar[Mapping[str, Any] | None] = contextvars.ContextVar(
    "kompor_trace", default=None
)


def new_request_id() -> str:
    return uuid.uuid4().hex


def sanitised(value: object) -> str | None:
    """``value`` when it is a request id we can repeat safely (letters, digits,
    ``._:-``, at most ``MAX_REQUEST_ID`` characters), else ``None``."""
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    if isinstance(value, str) and SAFE_REQUEST_ID.fullmatch(value):
        return value
    return None


def request_id_from(header: object) -> str:
    """The request id of a request whose ``X-Request-ID`` is ``header``: the client's
    when safe, a new one otherwise (missing, forged, huge, odd characters)."""
    return sanitised(header) or new_request_id()


def current() -> Mapping[str, Any]:
    """What the running worker (or HTTP request) is about: ``request_id``,
    ``event_type``, ``event_id``, as far as known."""
    return _context.get() or {}


def current_request_id() -> str | None:
    value: str | None = current().get(REQUEST_ID)
    return value


def enter(**fields: Any) -> contextvars.Token[Mapping[str, Any] | None]:
    """Run the rest of this green thread with ``fields`` (``None`` values dropped);
    ``leave(token)`` restores what was before."""
    return _context.set({key: value for key, value in fields.items() if value is not None})


def leave(token: contextvars.Token[Mapping[str, Any] | None]) -> None:
    try:
        _context.reset(token)
    except ValueError:  # set in another context: nothing of ours to restore here
        _context.set(None)


def request_id_of_message(context_data: Mapping[str, Any]) -> str | None:
    """The request id a worker was started with: an RPC's ``request_id`` (context
    data), or an event's ``correlation_id`` header."""
    return sanitised(context_data.get(REQUEST_ID)) or sanitised(
        context_data.get(CORRELATION_HEADER)
    )
