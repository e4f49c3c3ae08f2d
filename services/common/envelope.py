"""The event envelope (docs/architecture.md §3), and time helpers. Pure: domain modules
use it.

Domain code records what happened on the aggregate it changed (``record``); the
repository writes the state and those events in one atomic update, and the relay
publishes them afterwards.
"""

import datetime
import uuid
from collections.abc import Mapping
from typing import Any, NotRequired, TypedDict, TypeVar, cast

from services.common.tracing import current_request_id
from services.common.types import Document

PENDING_EVENTS = "_new_events"
# set (in the same write) on every aggregate whose outbox has events waiting, so the
# relay's sweep finds them through an index instead of reading every document
OUTBOX_PENDING = "outbox_pending"

# where events that kept failing are parked, and the headers that say why
DEAD_LETTER_QUEUE = "kompor.dead_letters"
ATTEMPTS_HEADER = "x-kompor-attempts"
ORIGIN_HEADER = "x-kompor-queue"
ERROR_HEADER = "x-kompor-error"


Payload = TypeVar("Payload")


class PublishedEvent(TypedDict):
    """The body of an event message."""

    event_id: str
    occurred_at: str
    data: Mapping[str, Any]


class OutboxEntry(PublishedEvent):
    """An event waiting in an aggregate's outbox: the body plus its routing ``type``,
    and the request it came from (published as the ``correlation_id`` header)."""

    type: str
    correlation_id: NotRequired[str]


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def isoformat(moment: datetime.datetime) -> str:
    """ISO 8601 UTC with a ``Z``; naive datetimes are taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.astimezone(datetime.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_id() -> str:
    return uuid.uuid4().hex


def payload(shape: type[Payload], document: Mapping[str, Any], **given: Any) -> Payload:
    """An event's ``data`` of the contract's ``shape`` (a TypedDict): exactly its fields,
    each ``given`` or else taken from ``document`` under the same name (an optional
    field the document lacks is left out), so a payload can hold no more and no less
    than its contract says."""
    required: frozenset[str] = getattr(shape, "__required_keys__", frozenset())
    data = {
        field: given[field] if field in given else document[field]
        for field in shape.__annotations__
        if field in given or field in document or field in required
    }
    return cast(Payload, data)


def make_event(event_type: str, data: Mapping[str, Any]) -> OutboxEntry:
    """An outbox entry: the published envelope plus its routing ``type``, and the
    id of the request being handled, if any."""
    entry: OutboxEntry = {
        "event_id": str(uuid.uuid4()),
        "type": event_type,
        "occurred_at": isoformat(utcnow()),
        "data": data,
    }
    request_id = current_request_id()
    if request_id:
        entry["correlation_id"] = request_id
    return entry


def record(aggregate: Document, event_type: str, data: Mapping[str, Any]) -> None:
    """Note that ``event_type`` happened to ``aggregate``; saved with it."""
    aggregate.setdefault(PENDING_EVENTS, []).append(make_event(event_type, data))


def published_body(entry: OutboxEntry) -> PublishedEvent:
    """What goes on the wire: ``{"event_id", "occurred_at", "data"}``."""
    return {
        "event_id": entry["event_id"],
        "occurred_at": entry["occurred_at"],
        "data": entry["data"],
    }
