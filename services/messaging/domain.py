"""Messaging rules: inbound messages, what a command's outcome is answered with, the
rule that keeps us from answering our own replies, and who reads which messages.

No nameko, no pymongo: plain dicts in, plain dicts out; events are recorded on the
message they concern (``record``) so the repository writes both in one update.
"""

import datetime
from collections.abc import Iterable, Mapping
from typing import Any

from services.common.actor import MEMBER_ROLES, Actor, is_coordinator, roles_in
from services.common.envelope import isoformat, new_id, payload, record, utcnow
from services.common.errors import Conflict, Forbidden, KomporError, NotFound, ValidationError
from services.common.types import Document
from services.messaging.contract import (
    BROADCAST_CONSENT_CHANGED,
    ECHO_WINDOW_SECONDS,
    HANDLED,
    HELP_PAUSE_SECONDS,
    MAX_TEXT,
    MESSAGE_RECEIVED,
    RECEIVED,
    REPLY_READY,
    BroadcastConsentChanged,
    MessageReceived,
    ReplyReady,
)
from services.messaging.exceptions import NotAllowed

HELP = "help"
DEFAULT_LANGUAGE = "id"

Reply = tuple[str, dict[str, Any]]
"""A reply key of ``replies.TEMPLATES`` and the values it names."""


# --- inbound messages --------------------------------------------------------------


def new_message(
    channel: str, fields: Mapping[str, Any], now: datetime.datetime | None = None
) -> Document:
    """An inbound message as stored, with its ``message_received`` event. Its natural
    key is the channel and the provider's id; a message without an id gets a key of
    its own, so it is never taken for a repeat."""
    now = now or utcnow()
    message_id = new_id()
    provider_id = fields.get("id") or ""
    text = fields.get("text") or ""
    message = {
        "_id": message_id,
        "key": f"{channel}:{provider_id}" if provider_id else f"{channel}:~{message_id}",
        "channel": channel,
        "provider_id": provider_id,
        "phone": fields["phone"],
        "text": text[:MAX_TEXT],
        "truncated": len(text) > MAX_TEXT,
        "status": RECEIVED,
        "received_at": now,
        "member_id": None,
        "hub_ids": [],
        "verb": None,
        "understood": None,
        "reply_key": None,
        "reply": None,
        "handled_at": None,
    }
    record(
        message,
        MESSAGE_RECEIVED,
        payload(MessageReceived, message, message_id=message_id, received_at=isoformat(now)),
    )
    return message


def idempotency_key(message: Mapping[str, Any]) -> str:
    """The key every write of this message's command is made under (``<channel>:<id>``),
    so that a provider delivering it twice, or a retry after a crash, changes once."""
    key: str = message["key"]
    return key


def member_hubs(actor: Actor | None) -> list[str]:
    """The hubs whose coordinator sees this member's messages that were not understood:
    those where they are an approved seller or buyer."""
    hubs = (actor["roles"] or {}) if actor is not None else {}
    return sorted(hub for hub in hubs if any(r in MEMBER_ROLES for r in roles_in(actor, hub)))


def handled(
    message: Document,
    command: Mapping[str, Any],
    member: Mapping[str, Any] | None,
    actor: Actor | None,
    reply_key: str,
    text: str | None,
    language: str,
    now: datetime.datetime | None = None,
) -> Document:
    """The message handled: who sent it, what it meant, and our reply (``text`` of
    ``reply_key``; ``None``: not answered, see ``should_reply``), with ``reply_ready``
    when there is one."""
    now = now or utcnow()
    member_id = member["id"] if member else None
    message.update(
        status=HANDLED,
        handled_at=now,
        member_id=member_id,
        hub_ids=member_hubs(actor),
        verb=command["verb"],
        understood=bool(command["understood"]),
        language=language,
        reply_key=reply_key,
        reply=None if text is None else {"text": text, "at": now},
    )
    if text is not None:
        reply = payload(
            ReplyReady,
            message,
            message_id=message["_id"],
            to=message["phone"],
            member_id=member_id,
            language=language,
            text=text,
        )
        record(message, REPLY_READY, reply)
    return message


def language_of(command: Mapping[str, Any], member: Mapping[str, Any] | None) -> str:
    """The member's language; for a phone we do not know, that of the word they used."""
    if member and member.get("language"):
        return str(member["language"])
    return str(command.get("language") or DEFAULT_LANGUAGE)


# --- not answering our own replies -------------------------------------------------


def _plain(text: str) -> str:
    return " ".join(text.split()).casefold()


def should_reply(
    reply_key: str,
    text: str,
    recent: Iterable[Mapping[str, Any]],
    now: datetime.datetime | None = None,
) -> bool:
    """Whether to answer an inbound ``text`` with ``reply_key``, given the messages
    this phone sent recently (each with our ``reply`` and its ``key``). Two rules keep
    two automatic gateways from answering each other forever:

    - a text identical (case and spaces aside) to one of our replies to this phone in
      the last ``ECHO_WINDOW_SECONDS`` is an echo: not answered;
    - help for text not understood goes to a phone at most once per
      ``HELP_PAUSE_SECONDS``; a command that was understood is always answered.
    """
    now = now or utcnow()
    echo_since = now - datetime.timedelta(seconds=ECHO_WINDOW_SECONDS)
    help_since = now - datetime.timedelta(seconds=HELP_PAUSE_SECONDS)
    plain = _plain(text)
    for earlier in recent:
        reply = earlier.get("reply") or {}
        at = reply.get("at")
        if at is None:
            continue
        at = at if at.tzinfo else at.replace(tzinfo=datetime.UTC)
        if at >= echo_since and plain and _plain(reply.get("text") or "") == plain:
            return False
        if reply_key == HELP and earlier.get("reply_key") == HELP and at >= help_since:
            return False
    return True


# --- what an outcome is answered with ----------------------------------------------

NOT_FOUND_REPLY = {
    "GABUNG": "no_such_hub",
    "PESAN": "unknown_code",
    "STOK": "unknown_code",
    "STATUS": "unknown_order",
    "BATAL": "unknown_order",
    "SIAP": "unknown_order",
    "BAYAR": "unknown_order",
}
CONFLICT_REPLY = {"BATAL": "cannot_cancel", "SIAP": "cannot_ready", "BAYAR": "cannot_pay"}


def usage(verb: str) -> str:
    return f"usage_{verb.lower()}"


def reply_to_error(verb: str, error: KomporError, values: Mapping[str, Any]) -> Reply | None:
    """The reply for an expected refusal of a command (what the HTTP API answers with
    a 4xx), or ``None`` for a failure that is not the member's doing (raise it: the
    message is handled again later)."""
    if isinstance(error, NotFound) and verb in NOT_FOUND_REPLY:
        return NOT_FOUND_REPLY[verb], dict(values)
    if isinstance(error, Forbidden):
        return "not_allowed", {}
    if isinstance(error, Conflict) and verb in CONFLICT_REPLY:
        return CONFLICT_REPLY[verb], dict(values)
    if isinstance(error, ValidationError | Conflict | NotFound):
        return usage(verb), {}
    return None


def reply_to_customer_order_error(error: KomporError, values: Mapping[str, Any]) -> Reply | None:
    """``reply_to_error`` for ``PESAN … UNTUK``: orders refuses a customer from a sender
    who is not an agent of the hub (``Forbidden``) → ``agents_only`` with ``values``
    (``hub``); a ``ValidationError`` naming ``customer`` is the customer's phone
    (``usage_pesan_untuk``) when it names ``phone`` in it (nested or ``customer.phone``),
    else the field refused as a whole: no customer taken from this sender,
    ``agents_only`` too."""
    if isinstance(error, Forbidden):
        return "agents_only", dict(values)
    details = error.details if isinstance(error, ValidationError) else {}
    named = details.get("customer")
    if "customer.phone" in details or (isinstance(named, Mapping) and "phone" in named):
        return "usage_pesan_untuk", {}
    if named is not None:
        return "agents_only", dict(values)
    return reply_to_error("PESAN", error, values)


def order_lines(
    products: Iterable[tuple[Mapping[str, Any], int]],
) -> tuple[str, list[dict[str, Any]]] | str:
    """``(hub_id, items)`` for an order of ``(product, quantity)`` pairs, or the code of
    the first product that is not in the first one's hub (an order is in one hub)."""
    pairs = list(products)
    hub_id = str(pairs[0][0]["hub_id"])
    for product, _ in pairs:
        if product["hub_id"] != hub_id:
            return str(product.get("code") or "")
    return hub_id, [{"product_id": p["id"], "quantity": q} for p, q in pairs]


def order_payload(
    hub_id: str, items: list[dict[str, Any]], customer_phone: str | None = None
) -> dict[str, Any]:
    """An order by text message: picked up at the hub, paid on pickup; with
    ``customer_phone``, an agent's order for that customer."""
    payload: dict[str, Any] = {
        "hub_id": hub_id,
        "items": items,
        "fulfilment": {"method": "pickup"},
        "payment_method": "cod",
    }
    if customer_phone is not None:
        payload["customer"] = {"phone": customer_phone}
    return payload


def found(products: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [{"code": p.get("code"), "name": p["name"], "price": p["price"]} for p in products]


# --- broadcast consent (BERHENTI / MULAI) ------------------------------------------


def consent(
    current: Document | None,
    phone: str,
    member_id: str | None,
    opted_out: bool,
    now: datetime.datetime | None = None,
) -> Document:
    """The phone's broadcast consent, with ``broadcast_consent_changed`` each time it is
    said (saying it again is news too: a later broadcast list rebuilds from events)."""
    document: Document = dict(current) if current else {"_id": phone, "phone": phone}
    document.update(opted_out=opted_out, member_id=member_id, changed_at=now or utcnow())
    data = payload(BroadcastConsentChanged, document)
    record(document, BROADCAST_CONSENT_CHANGED, data)
    return document


# --- who reads which messages ------------------------------------------------------


def check_can_read_hub_messages(actor: Actor, hub_id: str) -> None:
    """The hub's coordinators (and admins) read what its members sent that was not
    understood."""
    if not is_coordinator(actor, hub_id):
        raise NotAllowed(
            "Only the hub's coordinators read its members' messages.",
            {"hub_id": ["You are not a coordinator of this hub."]},
        )
