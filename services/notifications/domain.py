"""Notification rules: who is told what, on which channel, and when to try again.
No nameko, no pymongo.

The ``tell_*`` functions turn an event's data (plus what this service keeps of hubs
and memberships) into ``Message``s: one recipient, one template, the facts it needs.
A recipient is a member, or a phone that belongs to no member (a contact of a group, the
customer of an agent's order): such a message carries its own contact, and goes by SMS
in Indonesian.
"""

import datetime
import random
from collections.abc import Container, Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from services.common.actor import COORDINATOR
from services.common.envelope import PublishedEvent, payload, record, utcnow
from services.common.types import Document
from services.community import contract as community
from services.notifications import templates
from services.notifications.contract import (
    NOTIFICATION_FAILED,
    NOTIFICATION_SENT,
    NotificationSent,
)
from services.orders import contract as orders

QUEUED, SENT, FAILED, OPTED_OUT = "queued", "sent", "failed", "opted_out"
STATUSES = (QUEUED, SENT, FAILED, OPTED_OUT)
BROADCAST_TEMPLATE = "broadcast"
CONTACT_WELCOME_TEMPLATE = "contact_welcome"
ASKS_CONSENT = (BROADCAST_TEMPLATE, CONTACT_WELCOME_TEMPLATE)
"""Messages a phone that said ``BERHENTI`` is not sent (checked when each is sent);
messages about orders, payouts and the account go out whatever it said."""
BROADCAST_LANE = "broadcast"
PHONE_LANGUAGE = "id"
CODE_TEMPLATE = "one_time_code"
HIDDEN_CODE = "******"
CODE_EXPIRED = "the code expired before it could be sent"
REMOVED = "removed"
FALLBACK_CHANNEL = "sms"
CHANNELS = ("sms", "whatsapp", "email")
CONTACT_FIELDS = ("name", "phone", "email", "preferred_channel", "language")
WAITING_FOR_CONTACT = "waiting for the member's contact details"
MEMBERSHIP_STATUS = {
    community.MEMBERSHIP_REQUESTED: community.PENDING,
    community.MEMBERSHIP_APPROVED: community.APPROVED,
    community.MEMBERSHIP_REJECTED: community.REJECTED,
    community.MEMBERSHIP_SUSPENDED: community.SUSPENDED,
}
BUYER_TEMPLATE_FOR_STATUS = {
    orders.READY_FOR_PICKUP: "order_ready_for_pickup",
    orders.SHIPPED: "order_shipped",
}


class Message(NamedTuple):
    """``key`` names what the member is told about, when the same fact can arrive in
    several events (an order announced again); else the event itself is the key.
    ``contact``: how to reach a recipient who is no member (``phone_contact``); a
    member's is looked up when the message is stored."""

    recipient_id: str
    template: str
    facts: dict[str, Any]
    key: str | None = None
    contact: Document | None = None


def phone_contact(phone: str, name: str | None = None) -> Document:
    """How a phone that belongs to no member is reached: by SMS, in Indonesian."""
    return {"phone": phone, "name": name, "language": PHONE_LANGUAGE, "preferred_channel": "sms"}


def to_phone(
    phone: str, name: str | None, template: str, facts: dict[str, Any], key: str | None = None
) -> Message:
    """A message to a phone rather than a member: the phone is its recipient."""
    return Message(phone, template, facts, key, phone_contact(phone, name))


class BroadcastPace:
    """At most ``rate`` broadcast messages a second from this process, evenly spaced:
    after a message went to the provider at ``at`` (monotonic seconds), the next waits
    until ``at + 1/rate``. Time spent sending counts toward the gap, so a slow provider
    is not made slower; an idle spell saves up nothing."""

    def __init__(self, rate: float | str = 20) -> None:
        self.rate = float(rate)
        if self.rate <= 0:
            raise ValueError("KOMPOR_BROADCAST_RATE must be a positive number of messages a second")
        self.next_at = 0.0

    def wait(self, now: float) -> float:
        """Seconds until the next broadcast message may go."""
        return max(self.next_at - now, 0.0)

    def sent(self, at: float) -> None:
        self.next_at = at + 1 / self.rate


class DeliveryPolicy:
    """Exponential backoff with jitter, up to ``max_attempts`` tries (numbers, or the
    text of a config value)."""

    def __init__(
        self,
        base_delay: float | str = 5.0,
        max_delay: float | str = 600.0,
        max_attempts: int | str = 12,
    ) -> None:
        self.base_delay = float(base_delay)
        self.max_delay = float(max_delay)
        self.max_attempts = int(max_attempts)

    def delay(self, attempts: int) -> datetime.timedelta:
        """Wait before try ``attempts + 1``: between half and all of
        ``base · 2^(attempts-1)`` (capped), so replicas and members spread out."""
        ceiling = min(self.base_delay * 2 ** (attempts - 1), self.max_delay)
        return datetime.timedelta(seconds=random.uniform(ceiling / 2, ceiling))


# --- projections -------------------------------------------------------------------


def contact_from(data: Mapping[str, Any]) -> Document:
    return {"_id": data["member_id"], **{key: data.get(key) for key in CONTACT_FIELDS}}


def hub_from(data: Mapping[str, Any]) -> Document:
    return {
        "_id": data["hub_id"],
        **{key: data.get(key) for key in ("name", "address", "village", "district")},
    }


def hub_settings_from(data: Mapping[str, Any]) -> Document:
    """Where the hub's buyers pay by bank transfer (``hub_created``, ``hub_updated``)."""
    return {"_id": data["hub_id"], "bank_account": data.get("bank_account")}


def membership_from(event_type: str, data: Mapping[str, Any]) -> Document:
    return {
        "_id": data["membership_id"],
        "hub_id": data["hub_id"],
        "member_id": data["member_id"],
        "role": data["role"],
        "status": MEMBERSHIP_STATUS[event_type],
    }


def coordinator_from(data: Mapping[str, Any]) -> Document:
    return {
        "_id": f"{COORDINATOR}:{data['hub_id']}:{data['member_id']}",
        "hub_id": data["hub_id"],
        "member_id": data["member_id"],
        "role": COORDINATOR,
        "status": "approved",
    }


def consent_from(data: Mapping[str, Any]) -> Document:
    """messaging's ``broadcast_consent_changed``: whether the phone said ``BERHENTI``
    (and not ``MULAI`` since)."""
    return {
        "_id": data["phone"],
        "member_id": data.get("member_id"),
        "opted_out": data["opted_out"],
    }


def coordinator_removed_from(data: Mapping[str, Any]) -> Document:
    """The coordinator's place in the hub, no longer approved: they are told nothing
    more of it."""
    return {**coordinator_from(data), "status": REMOVED}


# --- who is told what --------------------------------------------------------------


def tell_new_member(data: Mapping[str, Any]) -> list[Message]:
    return [Message(data["member_id"], "welcome", {})]


def tell_code(data: Mapping[str, Any]) -> list[Message]:
    """``otp_issued`` → the member, by SMS (see ``address_code``)."""
    return [Message(data["member_id"], CODE_TEMPLATE, {"minutes": community.OTP_VALID_MINUTES})]


def tell_applicant(template: str, data: Mapping[str, Any], hub: Document | None) -> list[Message]:
    """``membership_approved`` / ``_rejected`` / ``_suspended`` → the member."""
    facts = {"role": data["role"], "hub": _hub_name(hub)}
    if template != "membership_approved":
        facts["reason"] = data.get("reason")
    return [Message(data["member_id"], template, facts)]


def tell_coordinators_of_application(
    data: Mapping[str, Any],
    hub: Document | None,
    coordinator_ids: Iterable[str],
    applicant: Document | None,
) -> list[Message]:
    facts = {
        "applicant": (applicant or {}).get("name") or data.get("business_name"),
        "role": data["role"],
        "hub": _hub_name(hub),
    }
    return [
        Message(coordinator, "membership_requested", facts)
        for coordinator in coordinator_ids
        if coordinator != data["member_id"]
    ]


def tell_new_coordinator(data: Mapping[str, Any], hub: Document | None) -> list[Message]:
    return [Message(data["member_id"], "coordinator_assigned", {"hub": _hub_name(hub)})]


def tell_coordinators_of_product(
    product: Mapping[str, Any], hub: Document | None, coordinator_ids: Iterable[str]
) -> list[Message]:
    """``product_submitted``: the hub's coordinators are asked to review it (but not
    its seller, nor the coordinator who submitted it), and a seller the coordinator
    submitted it for is told."""
    facts = {"product": product["name"], "price": product["price"], "hub": _hub_name(hub)}
    skip = {product["seller_id"], product.get("acted_by")}
    messages = [
        Message(coordinator, "product_submitted", facts)
        for coordinator in coordinator_ids
        if coordinator not in skip
    ]
    if _acted_for(product, product["seller_id"]):
        told = {**facts, "code": product.get("code")}
        messages.append(Message(product["seller_id"], "product_submitted_for_you", told))
    return messages


def tell_seller_of_stock_change(data: Mapping[str, Any], hub: Document | None) -> list[Message]:
    """``stock_changed`` by the hub's coordinator for the seller → the seller."""
    if not _acted_for(data, data["seller_id"]):
        return []
    facts = {
        "product": data["name"],
        "code": data.get("code"),
        "delta": data["delta"],
        "stock": data["stock"],
        "hub": _hub_name(hub),
    }
    return [Message(data["seller_id"], "stock_changed_for_you", facts)]


def tell_buyer_acted_for(order: Mapping[str, Any], hub: Document | None) -> list[Message]:
    """``order_placed`` by the hub's coordinator for the buyer → the buyer (once, however
    often the order is announced)."""
    if not _acted_for(order, order["buyer_id"]):
        return []
    template = "order_placed_for_you"
    facts = {**_order_facts(order, order["items"], hub), "hub": _hub_name(hub)}
    return [Message(order["buyer_id"], template, facts, _order_key(order, template))]


def _acted_for(data: Mapping[str, Any], member_id: str) -> bool:
    """Someone else (the hub's coordinator) acted for ``member_id``: they are told, so
    that a coordinator's mistake or misuse is seen by the member it concerns."""
    return data.get("acted_by") not in (None, member_id)


def tell_seller_of_curation(
    template: str, product: Mapping[str, Any], hub: Document | None
) -> list[Message]:
    """``product_approved`` / ``product_rejected`` → its seller."""
    facts = {"product": product["name"], "price": product["price"], "hub": _hub_name(hub)}
    if template == "product_rejected":
        facts["reason"] = product.get("reason")
    return [Message(product["seller_id"], template, facts)]


def tell_seller_of_low_stock(data: Mapping[str, Any]) -> list[Message]:
    return [
        Message(data["seller_id"], "stock_low", {"product": data["name"], "stock": data["stock"]})
    ]


def tell_sellers_of_order(
    template: str, order: Mapping[str, Any], skip: Container[str | None] = ()
) -> list[Message]:
    """Each seller in the order, about their own lines only."""
    messages = []
    for seller_id in _sellers(order):
        if seller_id in skip:
            continue
        lines = [line for line in order["items"] if line["seller_id"] == seller_id]
        facts = _order_facts(order, lines, hub=None)
        messages.append(Message(seller_id, template, facts, _order_key(order, template)))
    return messages


def tell_buyer(
    template: str, order: Mapping[str, Any], hub: Document | None = None
) -> list[Message]:
    return _tell_buyer_and_customer(template, order, _order_facts(order, order["items"], hub))


def _tell_buyer_and_customer(
    template: str, order: Mapping[str, Any], facts: dict[str, Any], key: str | None = None
) -> list[Message]:
    """The buyer; and the customer an agent ordered for (``customer``), by SMS to
    their phone, as the buyer is told."""
    key = key or _order_key(order, template)
    messages = [Message(order["buyer_id"], template, facts, key)]
    customer = order.get("customer") or {}
    if customer.get("phone"):
        messages.append(to_phone(customer["phone"], customer.get("name"), template, facts, key))
    return messages


def tell_customer_of_order(
    order: Mapping[str, Any], hub: Document | None, agent: Document | None
) -> list[Message]:
    """``order_placed`` by an agent for a customer → the customer: who ordered what
    for them (once, however often the order is announced)."""
    customer = order.get("customer") or {}
    if not customer.get("phone"):
        return []
    template = "order_placed_customer"
    facts = {
        **_order_facts(order, order["items"], hub),
        "hub": _hub_name(hub),
        "agent": (agent or {}).get("name"),
    }
    key = _order_key(order, template)
    return [to_phone(customer["phone"], customer.get("name"), template, facts, key)]


def tell_buyer_of_confirmation(order: Mapping[str, Any], hub: Document | None) -> list[Message]:
    """``order_confirmed`` → the buyer; for a bank transfer, where to pay: the hub's
    bank, account number and holder, the amount, and the order number as the
    transfer's reference (while the hub has no account on record, as for any order)."""
    account = (hub or {}).get("bank_account")
    if order["payment_method"] != orders.BANK_TRANSFER or not account:
        return tell_buyer("order_confirmed", order)
    facts = {
        **_order_facts(order, order["items"], hub),
        "bank": account["bank"],
        "account": account["number"],
        "holder": account["holder"],
    }
    key = _order_key(order, "order_confirmed")
    return _tell_buyer_and_customer("order_confirmed_transfer", order, facts, key)


def tell_coordinators_of_payment_proof(
    order: Mapping[str, Any], hub: Document | None, coordinator_ids: Iterable[str]
) -> list[Message]:
    """``payment_proof_sent`` → the hub's coordinators, to check the account and record
    the payment; once per reference the buyer sent."""
    reference = order.get("payment_reference")
    facts = {**_order_facts(order, order["items"], hub), "reference": reference}
    key = f"{_order_key(order, 'payment_proof_sent')}:{reference}"
    return [Message(member, "payment_proof_sent", facts, key) for member in coordinator_ids]


def tell_buyer_of_refund(data: Mapping[str, Any]) -> list[Message]:
    """``refund_settled`` → the buyer: the money of their cancelled order is back."""
    facts = {**_order_facts(data, data["items"], None), "reference": data.get("reference")}
    return _tell_buyer_and_customer("refund_settled", data, facts)


def tell_of_cancellation(order: Mapping[str, Any]) -> list[Message]:
    """The buyer, and each seller who was told of the order (unless they cancelled it
    or are the buyer). A cancellation repeated only to release stock tells no one."""
    if order.get("release_only"):
        return []
    skip = {order.get("cancelled_by"), order["buyer_id"]}
    return tell_buyer("order_cancelled", order) + tell_sellers_of_order(
        "order_cancelled_seller", order, skip=skip
    )


def tell_sellers_of_rejection(order: Mapping[str, Any]) -> list[Message]:
    """``order_rejected``: each seller who was asked to prepare the order hears it is
    off (the buyer hears it in their own words, so a seller who is the buyer is not
    told twice)."""
    return tell_sellers_of_order("order_rejected_seller", order, skip={order["buyer_id"]})


def tell_buyer_of_status(order: Mapping[str, Any], hub: Document | None) -> list[Message]:
    """``order_status_changed``: the buyer hears of ready_for_pickup and shipped."""
    template = BUYER_TEMPLATE_FOR_STATUS.get(order.get("to_status", ""))
    return tell_buyer(template, order, hub) if template else []


def tell_hub_members_of_training(
    training: Mapping[str, Any], hub: Document | None, member_ids: Iterable[str]
) -> list[Message]:
    facts = {
        "title": training["title"],
        "starts_at": training["starts_at"],
        "capacity": training["capacity"],
        "hub": _hub_name(hub),
    }
    return [Message(member_id, "training_scheduled", facts) for member_id in member_ids]


def tell_trainee(data: Mapping[str, Any], hub: Document | None) -> list[Message]:
    facts = {"title": data["title"], "hub": _hub_name(hub)}
    return [Message(data["member_id"], "training_completed", facts)]


def tell_new_contact(data: Mapping[str, Any]) -> list[Message]:
    """``contact_added`` → the phone, once per group: who added it to which group of
    which hub, and that ``BERHENTI`` stops broadcasts."""
    facts = {
        "added_by": data["added_by_name"],
        "group": data["group_name"],
        "hub": data["hub_name"],
    }
    key = f"{data['group_id']}:{CONTACT_WELCOME_TEMPLATE}"
    return [to_phone(data["phone"], data.get("name"), CONTACT_WELCOME_TEMPLATE, facts, key)]


def tell_broadcast(data: Mapping[str, Any]) -> list[Message]:
    """``broadcast_requested`` → each phone of the group once (the first name given
    for it), keyed by the broadcast: a repeated event adds no second message."""
    facts = {
        "hub": data["hub_name"],
        "products": [
            {"code": product["code"], "name": product["name"], "price": product["price"]}
            for product in data["products"]
        ],
    }
    names: dict[str, str | None] = {}
    for recipient in data["recipients"]:
        names.setdefault(recipient["phone"], recipient.get("name"))
    return [
        to_phone(phone, name, BROADCAST_TEMPLATE, facts, data["broadcast_id"])
        for phone, name in names.items()
    ]


def tell_seller_of_payout(data: Mapping[str, Any], hub: Document | None) -> list[Message]:
    """``payout_recorded`` → the seller or agent paid (``member_id``): what they were
    paid, how, and what the hub still owes them."""
    told = {"amount": data["amount"], "method": data["method"]}
    return _tell_balance(data["member_id"], "payout_recorded", data, hub, **told)


def tell_seller_of_adjustment(data: Mapping[str, Any], hub: Document | None) -> list[Message]:
    """``adjustment_recorded`` → the seller: the correction, its reason, the balance."""
    told = {"change": data["amount"], "reason": data["reason"]}
    return _tell_balance(data["seller_id"], "adjustment_recorded", data, hub, **told)


def _tell_balance(
    member_id: str, template: str, data: Mapping[str, Any], hub: Document | None, **facts: Any
) -> list[Message]:
    """A change of the member's balance at the hub, with the balance after it."""
    told = {**facts, "balance": data["balance_after"], "hub": _hub_name(hub)}
    return [Message(member_id, template, told)]


def _order_key(order: Mapping[str, Any], template: str) -> str:
    # each step of an order happens once, but orders may announce a step again
    return f"{order['order_id']}:{template}"


def _sellers(order: Mapping[str, Any]) -> list[str]:
    sellers = order.get("seller_ids") or [line["seller_id"] for line in order["items"]]
    return list(dict.fromkeys(sellers))


def _order_facts(
    order: Mapping[str, Any], lines: Sequence[Mapping[str, Any]], hub: Document | None
) -> dict[str, Any]:
    fulfilment = order.get("fulfilment") or {}
    everything = lines is order["items"]
    return {
        "number": order.get("number") or order["order_id"],
        "items": [
            {"name": line["name"], "quantity": line["quantity"], "code": line.get("code")}
            for line in lines
        ],
        "total": order["total"] if everything else sum(_line_total(line) for line in lines),
        "method": fulfilment.get("method"),
        "payment": order.get("payment_method"),
        "address": fulfilment.get("address"),
        "pickup": _pickup(hub),
    }


def _line_total(line: Mapping[str, Any]) -> int:
    if line.get("line_total") is not None:
        return line["line_total"]
    return line["quantity"] * line["unit_price"]


def _hub_name(hub: Document | None) -> str | None:
    return (hub or {}).get("name")


def _pickup(hub: Document | None) -> str | None:
    if not hub or not hub.get("name"):
        return None
    return f"{hub['name']}, {hub['address']}" if hub.get("address") else hub["name"]


# --- the delivery log --------------------------------------------------------------


def new_notification(
    event: PublishedEvent, message: Message, now: datetime.datetime | None = None
) -> Document:
    """One message for one recipient about one event (or one fact, see ``Message``);
    its id makes it unique. Addressed and rendered now if the contact is known, else on
    a later try. A broadcast's message waits in the broadcast lane, sent at the pace
    of ``BroadcastPace`` behind every other message."""
    now = now or utcnow()
    notification = {
        "_id": f"{message.key or event['event_id']}:{message.recipient_id}",
        "event_id": event["event_id"],
        "recipient_id": message.recipient_id,
        "template": message.template,
        "facts": message.facts,
        "language": None,
        "channel": None,
        "phone": None,
        "email": None,
        "subject": None,
        "text": None,
        "status": QUEUED,
        "attempts": 0,
        "last_error": None,
        "delivered_via": None,
        "created_at": now,
        "next_attempt_at": now,
        "sent_at": None,
    }
    if message.template == BROADCAST_TEMPLATE:  # paced, in a lane of its own
        notification.update(lane=BROADCAST_LANE, broadcast_id=message.key)
    return notification


REPLY_TEMPLATE = "reply"


def reply_from(event: PublishedEvent) -> Document:
    """messaging's ``reply_ready``: the text as written, to the phone it answers, on
    the channel the message came in on (SMS if that fails). Its id is the inbound
    message's, so a repeated event stores it once. A phone no member has yet is its
    own recipient."""
    data = event["data"]
    notification = new_notification(
        event,
        Message(data["member_id"] or data["to"], REPLY_TEMPLATE, {}, f"reply:{data['message_id']}"),
    )
    notification.update(
        language=data["language"],
        channel=data["channel"],
        phone=data["to"],
        text=data["text"],
    )
    return notification


def address(notification: Document, contact: Mapping[str, Any]) -> Document:
    """Render the message for ``contact``: their language (Indonesian unless we know
    better), their channel (SMS unless they chose another), their phone and email."""
    language = templates.language_of(contact.get("language"))
    facts = {**notification["facts"], "name": contact.get("name")}
    subject, text = templates.render(notification["template"], language, facts)
    notification.update(
        language=language,
        channel=contact.get("preferred_channel") or FALLBACK_CHANNEL,
        phone=contact.get("phone"),
        email=contact.get("email"),
        subject=subject,
        text=text,
    )
    return notification


def address_code(notification: Document, data: Mapping[str, Any]) -> Document:
    """A one-time code goes by SMS to the phone it was asked for, in the member's
    language, whatever channel they prefer, ahead of other messages (``urgent``).
    The code is only in ``secret_text``, what is sent, which is kept until the SMS went
    or was given up on (``forget_secret``); ``text``, what the member's list shows
    and a log may say, has it hidden. Given up on once the code has expired."""
    language = templates.language_of(data.get("language"))
    facts = notification["facts"]
    subject, text = templates.render(CODE_TEMPLATE, language, {**facts, "code": HIDDEN_CODE})
    _, secret_text = templates.render(CODE_TEMPLATE, language, {**facts, "code": data["code"]})
    notification.update(
        language=language,
        channel=FALLBACK_CHANNEL,
        phone=data["phone"],
        email=None,
        subject=subject,
        text=text,
        secret_text=secret_text,
        urgent=True,
        expires_at=datetime.datetime.fromisoformat(data["expires_at"].replace("Z", "+00:00")),
    )
    return notification


def has_expired(notification: Document, now: datetime.datetime | None = None) -> bool:
    """A message that is no use any more (a one-time code past its time)."""
    expires_at = notification.get("expires_at")
    return expires_at is not None and expires_at <= (now or utcnow())


def forget_secret(notification: Document) -> None:
    """Sent or given up on: the code is kept nowhere any more."""
    if notification.get("secret_text") is not None:
        notification["secret_text"] = None


def give_up(notification: Document, error: str) -> None:
    """No more tries: ``notification_failed``."""
    notification.update(status=FAILED, next_attempt_at=None, last_error=error)
    forget_secret(notification)
    record(notification, NOTIFICATION_FAILED, {**_summary(notification), "error": error})


def asks_consent(notification: Document) -> bool:
    """A broadcast or a contact's welcome: not sent to a phone that opted out."""
    return notification["template"] in ASKS_CONSENT


def opt_out(notification: Document) -> None:
    """The phone said ``BERHENTI`` before this message went: it never will."""
    notification.update(
        status=OPTED_OUT,
        next_attempt_at=None,
        last_error="the phone opted out of broadcasts (BERHENTI)",
    )


def broadcast_counts(by_status: Mapping[str, int]) -> dict[str, int]:
    """``{total, queued, sent, failed, opted_out}`` of a broadcast's messages."""
    counts = {status: by_status.get(status, 0) for status in STATUSES}
    return {"total": sum(counts.values()), **counts}


def is_addressed(notification: Document) -> bool:
    return notification.get("text") is not None


def channel_order(notification: Document) -> list[str]:
    """The member's preferred channel first, then SMS."""
    return list(dict.fromkeys([notification["channel"] or FALLBACK_CHANNEL, FALLBACK_CHANNEL]))


def address_for(notification: Document, channel: str) -> str | None:
    return notification["email"] if channel == "email" else notification["phone"]


def mark_sent(
    notification: Document,
    channel: str,
    notes: Sequence[str] = (),
    now: datetime.datetime | None = None,
) -> None:
    """Delivered through ``channel``; ``notes`` say why earlier channels were passed
    over (kept as ``last_error``)."""
    notification.update(
        status=SENT,
        delivered_via=channel,
        sent_at=now or utcnow(),
        attempts=notification["attempts"] + 1,
        next_attempt_at=None,
    )
    if notes:
        notification["last_error"] = "; ".join(notes)
    forget_secret(notification)
    record(notification, NOTIFICATION_SENT, _summary(notification))


def mark_attempt_failed(
    notification: Document, error: str, policy: DeliveryPolicy, now: datetime.datetime | None = None
) -> None:
    """Schedule the next try, or give up after the last one."""
    now = now or utcnow()
    notification["attempts"] += 1
    notification["last_error"] = error
    if notification["attempts"] >= policy.max_attempts:
        give_up(notification, error)
    else:
        notification["next_attempt_at"] = now + policy.delay(notification["attempts"])


def _summary(notification: Document) -> NotificationSent:
    channel = notification["delivered_via"] or notification["channel"] or FALLBACK_CHANNEL
    return payload(
        NotificationSent, notification, notification_id=notification["_id"], channel=channel
    )
