"""What notifications promises to the outside: the events it publishes, with the
fields of each one's ``data``.

It imports nothing of notifications' internals, so any service may import it;
docs/events.md describes the same events for people, and a test keeps the two in step.
"""

from typing import TypedDict

# --- events (``notifications.events``) ---------------------------------------------

NOTIFICATION_SENT = "notification_sent"
NOTIFICATION_FAILED = "notification_failed"


class NotificationSent(TypedDict):
    notification_id: str
    event_id: str
    recipient_id: str
    template: str
    channel: str
    attempts: int


class NotificationFailed(NotificationSent):
    error: str


EVENTS: dict[str, type] = {
    NOTIFICATION_SENT: NotificationSent,
    NOTIFICATION_FAILED: NotificationFailed,
}
"""Every event notifications publishes, with the shape of its ``data``."""
