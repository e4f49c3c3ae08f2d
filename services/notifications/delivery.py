"""Persist first, then send; what fails is retried by the service's timer."""

import logging
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
            notification = domain.new_notification(event, message)
            if tracing.current_request_id():  # a later try by the timer says it too
                notification["request_id"] = tracing.current_request_id()
            contact = self.store.get_contact(message.recipient_id)
            if contact is not None:
                domain.address(notification, contact)
            else:
                notification["last_error"] = domain.WAITING_FOR_CONTACT
            addressed = domain.is_addressed(notification)
            added = self.store.add_notification(notification, claimed=addressed)
            if added is not None and addressed:
                queued.append(added)
        self._try_now(queued)

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

    def deliver_due(self, limit: int = 100) -> int:
        """Send what is due; returns how many were attempted."""
        for attempted in range(limit):
            notification = self.store.claim()
            if notification is None:
                return attempted
            self.deliver(notification)
        return limit

    def deliver(self, notification: Document) -> bool:
        """Try a claimed notification once on each of its channels; True if sent. It
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
            metrics.NOTIFICATIONS.labels(channel, "sent").inc()
            logger.info("notification %s sent by %s", notification["_id"], channel)
            domain.mark_sent(notification, channel, notes)
            self.store.release(notification)
            return True
        self._failed(notification, "; ".join(notes))
        return False

    def _failed(self, notification: Document, error: str) -> None:
        metrics.NOTIFICATIONS.labels(notification.get("channel") or "none", "failed").inc()
        domain.mark_attempt_failed(notification, error, self.postbox.policy)
        logger.warning(
            "notification %s not delivered (attempt %s, %s): %s",
            notification["_id"],
            notification["attempts"],
            notification["status"],
            error,
        )
        self.store.release(notification)
