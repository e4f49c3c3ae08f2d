"""Notification rules: who gets what, on which channel, and when to try again.
No nameko, no pymongo."""

import datetime
import random

from services.common.envelope import record, utcnow

QUEUED, SENT, FAILED = "queued", "sent", "failed"
FALLBACK_CHANNEL = "sms"
CONTACT_FIELDS = ("name", "phone", "email", "preferred_channel", "language")


class DeliveryPolicy:
    """Exponential backoff with jitter, up to ``max_attempts`` tries."""

    def __init__(self, base_delay=5.0, max_delay=600.0, max_attempts=12):
        self.base_delay = float(base_delay)
        self.max_delay = float(max_delay)
        self.max_attempts = int(max_attempts)

    def delay(self, attempts):
        ceiling = min(self.base_delay * 2 ** (attempts - 1), self.max_delay)
        return datetime.timedelta(seconds=random.uniform(ceiling / 2, ceiling))


def contact_from(data):
    return {"_id": data["member_id"], **{key: data.get(key) for key in CONTACT_FIELDS}}


def new_notification(event, contact, template, text, now=None):
    """One message for one recipient about one event; its id makes it unique."""
    now = now or utcnow()
    return {
        "_id": f"{event['event_id']}:{contact['_id']}",
        "event_id": event["event_id"],
        "recipient_id": contact["_id"],
        "template": template,
        "language": contact.get("language"),
        "channel": contact.get("preferred_channel") or FALLBACK_CHANNEL,
        "phone": contact.get("phone"),
        "email": contact.get("email"),
        "text": text,
        "status": QUEUED,
        "attempts": 0,
        "last_error": None,
        "delivered_via": None,
        "created_at": now,
        "next_attempt_at": now,
        "sent_at": None,
    }


def channel_order(notification):
    """The member's preferred channel first, then SMS."""
    return list(dict.fromkeys([notification["channel"], FALLBACK_CHANNEL]))


def address_for(notification, channel):
    return notification["email"] if channel == "email" else notification["phone"]


def mark_sent(notification, channel, now=None):
    notification.update(
        status=SENT,
        delivered_via=channel,
        sent_at=now or utcnow(),
        attempts=notification["attempts"] + 1,
        next_attempt_at=None,
    )
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
        "channel": notification["delivered_via"] or notification["channel"],
        "attempts": notification["attempts"],
    }
