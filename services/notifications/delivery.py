"""Persist first, then send; what fails is retried by the service's timer, which also
sends broadcasts, paced, behind every other message."""

import logging
import math
import time
from collections.abc import Iterable

from services.common import metrics, tracing
from services.common.envelope import PublishedEvent
from services.common.types import Document
from services.notifications import domain
from services.notifications.channels import Postbox
from services.notifications.exceptions import DeliveryFailed
from services.notifications.repository import NotificationsRepository

logger = logging.getLogger(__name__)


class Courier:
    def __init__(self, store: NotificationsRepository, postbox: Postbox) -> None:
        self.store = store
        self.postbox = postbox

    def notify(self, event: PublishedEvent, messages: Iterable[domain.Message]) -> None:
        """Store each message about ``event`` (once per recipient), then try them now.
        A recipient whose contact is not known yet is tried again by the timer, and so
        is everything after a failed try: a provider outage must not hold the handler
        (a training can reach hundreds of members)."""
        queued: list[Document] = []
        for message in messages:
            notification = self._stored_form(event, message)
            addressed = domain.is_addressed(notification)
            added = self.store.add_notification(notification, claimed=addressed)
            if added is not None and addressed:
                queued.append(added)
        self._try_now(queued)

    def queue(self, event: PublishedEvent, messages: Iterable[domain.Message]) -> int:
        """Store many messages about ``event`` in a few bulk writes, each once, and
        leave them to the timer (a broadcast to thousands of phones: it sends them
        at the broadcast pace). How many were new."""
        return self.store.add_notifications([self._stored_form(event, m) for m in messages])

    def _stored_form(self, event: PublishedEvent, message: domain.Message) -> Document:
        """The notification as it is stored: addressed and rendered when its contact
        is known (its own, or the member's), else waiting for it."""
        notification = domain.new_notification(event, message)
        if tracing.current_request_id():  # a later try by the timer says it too
            notification["request_id"] = tracing.current_request_id()
        contact = message.contact or self.store.get_contact(message.recipient_id)
        if contact is not None:
            domain.address(notification, contact)
        else:
            notification["last_error"] = domain.WAITING_FOR_CONTACT
        return notification

    def send(self, notification: Document) -> None:
        """Store a message already addressed and rendered (a reply to a phone that
        may belong to no member), once per id, then try it now; the timer retries it
        like any other."""
        added = self.store.add_notification(notification, claimed=True)
        if added is not None:
            self._try_now([added])

    def _try_now(self, claimed: list[Document]) -> None:
        """Deliver what was stored claimed, in turn; after a failed try the rest is
        given back to the timer rather than tried against a provider that is down."""
        for tried, notification in enumerate(claimed, 1):
            if not self.deliver(notification):
                self.store.unclaim([untried["_id"] for untried in claimed[tried:]])
                return

    def send_code(self, event: PublishedEvent) -> None:
        """``otp_issued``: the code by SMS, stored once and tried at once, never behind
        other messages (see ``domain.address_code``)."""
        data = event["data"]
        for message in domain.tell_code(data):
            notification = domain.address_code(domain.new_notification(event, message), data)
            added = self.store.add_notification(notification, claimed=True)
            if added is not None:
                self.deliver(added)

    def deliver_due(self, limit: int = 100, seconds: float = 1.0) -> int:
        """Send what is due: every message but broadcasts first (up to ``limit``),
        then broadcast messages at the pace of broadcasts for up to ``seconds``;
        returns how many were attempted."""
        attempted = 0
        while attempted < limit and (notification := self.store.claim()) is not None:
            self.deliver(notification)
            attempted += 1
        return attempted + self.deliver_broadcasts(seconds)

    def deliver_broadcasts(self, seconds: float) -> int:
        """Due broadcast messages, one after another, each when ``BroadcastPace``
        lets it go, for up to ``seconds``; one not sent because its phone opted out
        takes no turn. A failed try ends the round: the rest waits for the next tick
        rather than meeting a provider that is down. Returns how many were attempted."""
        pace = self.postbox.pace
        deadline = time.monotonic() + seconds
        attempted = 0
        while due := self.store.due_broadcasts(max(math.ceil(pace.rate * seconds), 1)):
            for notification_id in due:
                wait = pace.wait(time.monotonic())
                if time.monotonic() + wait >= deadline:
                    return attempted
                time.sleep(wait)
                notification = self.store.claim_one(notification_id)
                if notification is None:  # another replica took it
                    continue
                started = time.monotonic()
                delivered = self.deliver(notification)
                attempted += 1
                if notification["status"] != domain.OPTED_OUT:
                    pace.sent(started)
                if not delivered:
                    return attempted
        return attempted

    def deliver(self, notification: Document) -> bool:
        """Try a claimed notification once on each of its channels; True if it needs
        no other try (sent, or not to be sent: its phone opted out of broadcasts). It
        runs, and logs, under the id of the request it came from."""
        known = tracing.current()
        token = tracing.enter(
            **{
                **known,
                tracing.REQUEST_ID: known.get(tracing.REQUEST_ID)
                or notification.get(tracing.REQUEST_ID),
            }
        )
        try:
            return self._deliver(notification)
        finally:
            tracing.leave(token)

    def _deliver(self, notification: Document) -> bool:
        if domain.has_expired(notification):
            domain.give_up(notification, domain.CODE_EXPIRED)
            self.store.release(notification)
            return False
        if not domain.is_addressed(notification):
            contact = self.store.get_contact(notification["recipient_id"])
            if contact is None:
                self._failed(notification, domain.WAITING_FOR_CONTACT)
                return False
            domain.address(notification, contact)
        if domain.asks_consent(notification) and self.store.has_opted_out(notification["phone"]):
            domain.opt_out(notification)
            self._count(notification, notification["channel"], domain.OPTED_OUT)
            logger.info("notification %s not sent: the phone opted out", notification["_id"])
            self.store.release(notification)
            return True
        notes: list[str] = []
        for channel in domain.channel_order(notification):
            try:
                note = self.postbox.send(channel, notification)
            except DeliveryFailed as exc:
                notes.append(f"{channel}: {exc}")
                continue
            except Exception as exc:  # a provider surprise must not stall the message
                logger.exception("sending %s by %s failed", notification["_id"], channel)
                notes.append(f"{channel}: unexpected {type(exc).__name__}")
                continue
            if note:
                notes.append(f"{channel}: {note}")
            self._count(notification, channel, domain.SENT)
            logger.info("notification %s sent by %s", notification["_id"], channel)
            domain.mark_sent(notification, channel, notes)
            self.store.release(notification)
            return True
        self._failed(notification, "; ".join(notes))
        return False

    def _count(self, notification: Document, channel: str | None, status: str) -> None:
        metrics.NOTIFICATIONS.labels(channel or "none", status, notification["template"]).inc()

    def _failed(self, notification: Document, error: str) -> None:
        self._count(notification, notification.get("channel"), domain.FAILED)
        domain.mark_attempt_failed(notification, error, self.postbox.policy)
        logger.warning(
            "notification %s not delivered (attempt %s, %s): %s",
            notification["_id"],
            notification["attempts"],
            notification["status"],
            error,
        )
        self.store.release(notification)
