"""Notification rules: who is told what, on which channel, and when to try again.
No nameko, no pymongo.

The ``tell_*`` functions turn an event's data (plus what this service keeps of hubs
and memberships) into ``Message``s: one recipient, one template, the facts it needs.
"""

import datetime
import random
from typing import NamedTuple

from services.common.envelope import record, utcnow
from services.notifications import templates

QUEUED, SENT, FAILED = "queued", "sent", "failed"
FALLBACK_CHANNEL = "sms"
CHANNELS = ("sms", "whatsapp", "email")
CONTACT_FIELDS = ("name", "phone", "email", "preferred_channel", "language")
WAITING_FOR_CONTACT = "waiting for the member's contact details"
MEMBERSHIP_STATUS = {
    "membership_requested": "pending",
    "membership_approved": "approved",
    "membership_rejected": "rejected",
    "membership_suspended": "suspended",
}
COORDINATOR = "coordinator"
MEMBER_ROLES = ("seller", "buyer")
BUYER_TEMPLATE_FOR_STATUS = {
    "ready_for_pickup": "order_ready_for_pickup",
    "shipped": "order_shipped",
}


class Message(NamedTuple):
    """``key`` names what the member is told about, when the same fact can arrive in
    several events (an order announced again); else the event itself is the key."""

    recipient_id: str
    template: str
    facts: dict
    key: str | None = None


class DeliveryPolicy:
    """Exponential backoff with jitter, up to ``max_attempts`` tries."""

    def __init__(self, base_delay=5.0, max_delay=600.0, max_attempts=12):
        self.base_delay = float(base_delay)
        self.max_delay = float(max_delay)
        self.max_attempts = int(max_attempts)

    def delay(self, attempts):
        """Wait before try ``attempts + 1``: between half and all of
        ``base · 2^(attempts-1)`` (capped), so replicas and members spread out."""
        ceiling = min(self.base_delay * 2 ** (attempts - 1), self.max_delay)
        return datetime.timedelta(seconds=random.uniform(ceiling / 2, ceiling))


# --- projections -------------------------------------------------------------------


def contact_from(data):
    return {"_id": data["member_id"], **{key: data.get(key) for key in CONTACT_FIELDS}}


def hub_from(data):
    return {
        "_id": data["hub_id"],
        **{key: data.get(key) for key in ("name", "address", "village", "district")},
    }


def membership_from(event_type, data):
    return {
        "_id": data["membership_id"],
        "hub_id": data["hub_id"],
        "member_id": data["member_id"],
        "role": data["role"],
        "status": MEMBERSHIP_STATUS[event_type],
    }


def coordinator_from(data):
    return {
        "_id": f"{COORDINATOR}:{data['hub_id']}:{data['member_id']}",
        "hub_id": data["hub_id"],
        "member_id": data["member_id"],
        "role": COORDINATOR,
        "status": "approved",
    }


# --- who is told what --------------------------------------------------------------


def tell_new_member(data):
    return [Message(data["member_id"], "welcome", {})]


def tell_applicant(template, data, hub):
    """``membership_approved`` / ``_rejected`` / ``_suspended`` → the member."""
    facts = {"role": data["role"], "hub": _hub_name(hub)}
    if template != "membership_approved":
        facts["reason"] = data.get("reason")
    return [Message(data["member_id"], template, facts)]


def tell_coordinators_of_application(data, hub, coordinator_ids, applicant):
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


def tell_new_coordinator(data, hub):
    return [Message(data["member_id"], "coordinator_assigned", {"hub": _hub_name(hub)})]


def tell_coordinators_of_product(product, hub, coordinator_ids):
    facts = {"product": product["name"], "price": product["price"], "hub": _hub_name(hub)}
    return [
        Message(coordinator, "product_submitted", facts)
        for coordinator in coordinator_ids
        if coordinator != product["seller_id"]
    ]


def tell_seller_of_curation(template, product, hub):
    """``product_approved`` / ``product_rejected`` → its seller."""
    facts = {"product": product["name"], "price": product["price"], "hub": _hub_name(hub)}
    if template == "product_rejected":
        facts["reason"] = product.get("reason")
    return [Message(product["seller_id"], template, facts)]


def tell_seller_of_low_stock(data):
    return [
        Message(data["seller_id"], "stock_low", {"product": data["name"], "stock": data["stock"]})
    ]


def tell_sellers_of_order(template, order, skip=()):
    """Each seller in the order, about their own lines only."""
    messages = []
    for seller_id in _sellers(order):
        if seller_id in skip:
            continue
        lines = [line for line in order["items"] if line["seller_id"] == seller_id]
        facts = _order_facts(order, lines, hub=None)
        messages.append(Message(seller_id, template, facts, _order_key(order, template)))
    return messages


def tell_buyer(template, order, hub=None):
    facts = _order_facts(order, order["items"], hub)
    return [Message(order["buyer_id"], template, facts, _order_key(order, template))]


def tell_of_cancellation(order):
    """The buyer, and each seller who was told of the order (unless they cancelled it
    or are the buyer). A cancellation repeated only to release stock tells no one."""
    if order.get("release_only"):
        return []
    skip = {order.get("cancelled_by"), order["buyer_id"]}
    return tell_buyer("order_cancelled", order) + tell_sellers_of_order(
        "order_cancelled_seller", order, skip=skip
    )


def tell_sellers_of_rejection(order):
    """``order_rejected``: each seller who was asked to prepare the order hears it is
    off (the buyer hears it in their own words, so a seller who is the buyer is not
    told twice)."""
    return tell_sellers_of_order("order_rejected_seller", order, skip={order["buyer_id"]})


def tell_buyer_of_status(order, hub):
    """``order_status_changed``: the buyer hears of ready_for_pickup and shipped."""
    template = BUYER_TEMPLATE_FOR_STATUS.get(order.get("to_status"))
    return tell_buyer(template, order, hub) if template else []


def tell_hub_members_of_training(training, hub, member_ids):
    facts = {
        "title": training["title"],
        "starts_at": training["starts_at"],
        "capacity": training["capacity"],
        "hub": _hub_name(hub),
    }
    return [Message(member_id, "training_scheduled", facts) for member_id in member_ids]


def tell_trainee(data, hub):
    facts = {"title": data["title"], "hub": _hub_name(hub)}
    return [Message(data["member_id"], "training_completed", facts)]


def _order_key(order, template):
    # each step of an order happens once, but orders may announce a step again
    return f"{order['order_id']}:{template}"


def _sellers(order):
    sellers = order.get("seller_ids") or [line["seller_id"] for line in order["items"]]
    return list(dict.fromkeys(sellers))


def _order_facts(order, lines, hub):
    fulfilment = order.get("fulfilment") or {}
    everything = lines is order["items"]
    return {
        "number": order.get("number") or order["order_id"],
        "items": [{"name": line["name"], "quantity": line["quantity"]} for line in lines],
        "total": order["total"] if everything else sum(_line_total(line) for line in lines),
        "method": fulfilment.get("method"),
        "payment": order.get("payment_method"),
        "address": fulfilment.get("address"),
        "pickup": _pickup(hub),
    }


def _line_total(line):
    if line.get("line_total") is not None:
        return line["line_total"]
    return line["quantity"] * line["unit_price"]


def _hub_name(hub):
    return (hub or {}).get("name")


def _pickup(hub):
    if not hub or not hub.get("name"):
        return None
    return f"{hub['name']}, {hub['address']}" if hub.get("address") else hub["name"]


# --- the delivery log --------------------------------------------------------------


def new_notification(event, message, now=None):
    """One message for one recipient about one event (or one fact, see ``Message``);
    its id makes it unique. Addressed and rendered now if the contact is known, else on
    a later try."""
    now = now or utcnow()
    return {
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


def address(notification, contact):
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


def is_addressed(notification):
    return notification.get("text") is not None


def channel_order(notification):
    """The member's preferred channel first, then SMS."""
    return list(dict.fromkeys([notification["channel"] or FALLBACK_CHANNEL, FALLBACK_CHANNEL]))


def address_for(notification, channel):
    return notification["email"] if channel == "email" else notification["phone"]


def mark_sent(notification, channel, notes=(), now=None):
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
    record(notification, "notification_sent", _summary(notification))


def mark_attempt_failed(notification, error, policy, now=None):
    """Schedule the next try, or give up after the last one."""
    now = now or utcnow()
    notification["attempts"] += 1
    notification["last_error"] = error
    if notification["attempts"] >= policy.max_attempts:
        notification.update(status=FAILED, next_attempt_at=None)
        record(notification, "notification_failed", {**_summary(notification), "error": error})
    else:
        notification["next_attempt_at"] = now + policy.delay(notification["attempts"])


def _summary(notification):
    return {
        "notification_id": notification["_id"],
        "event_id": notification["event_id"],
        "recipient_id": notification["recipient_id"],
        "template": notification["template"],
        "channel": notification["delivered_via"] or notification["channel"] or FALLBACK_CHANNEL,
        "attempts": notification["attempts"],
    }
