"""What messaging promises to the outside: the channels it takes text messages on,
the bounds of what it stores, and the events it publishes with the fields of each
one's ``data``.

It imports nothing of messaging's internals, so any service may import it;
docs/events.md describes the same events for people, and a test keeps the two in step.
"""

from typing import TypedDict

SMS = "sms"
WHATSAPP = "whatsapp"
CHANNELS = (SMS, WHATSAPP)

MAX_TEXT = 2000
"""Characters of an inbound text that are kept: a longer one (no command is that long)
is stored cut to this length, marked ``truncated``, and answered like any other."""
MAX_PROVIDER_ID = 200
"""Characters of a provider's message id."""

HELP_PAUSE_SECONDS = 600
"""At most one help reply per phone in this time (see ``domain.should_reply``)."""
ECHO_WINDOW_SECONDS = 3600
"""A text identical to one of our replies to that phone in this time is not answered."""

# what became of an inbound message
RECEIVED = "received"
HANDLED = "handled"


# --- events (``messaging.events``) -------------------------------------------------

MESSAGE_RECEIVED = "message_received"
REPLY_READY = "reply_ready"
BROADCAST_CONSENT_CHANGED = "broadcast_consent_changed"


class MessageReceived(TypedDict):
    """A text message arrived and was stored; messaging handles it from this event."""

    message_id: str
    channel: str
    provider_id: str
    phone: str
    received_at: str


class ReplyReady(TypedDict):
    """Our answer to an inbound message: notifications sends ``text`` to ``to`` on
    ``channel``."""

    message_id: str
    channel: str
    to: str
    member_id: str | None
    language: str
    text: str


class BroadcastConsentChanged(TypedDict):
    """``BERHENTI`` (``opted_out: true``) or ``MULAI`` (``false``) from a phone."""

    phone: str
    member_id: str | None
    opted_out: bool


EVENTS: dict[str, type] = {
    MESSAGE_RECEIVED: MessageReceived,
    REPLY_READY: ReplyReady,
    BROADCAST_CONSENT_CHANGED: BroadcastConsentChanged,
}
"""Every event messaging publishes, with the shape of its ``data``."""
