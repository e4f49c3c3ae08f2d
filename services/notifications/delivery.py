"""Persist first, then send; what fails is retried by the service's timer."""

import logging

from services.notifications import domain, templates
from services.notifications.exceptions import DeliveryFailed

logger = logging.getLogger(__name__)


class Courier:
    def __init__(self, store, postbox):
        self.store = store
        self.postbox = postbox

    def notify(self, event, contact, template, **facts):
        """Queue ``template`` for ``contact`` about ``event`` (once), then try it now."""
        if contact is None or not contact.get("phone"):
            logger.warning("no contact for %s; %s not sent", event["event_id"], template)
            return None
        text = templates.render(template, contact.get("language"), **facts)
        notification = self.store.add_notification(
            domain.new_notification(event, contact, template, text)
        )
        if notification is not None:
            self.deliver(self.store.claim(notification["_id"]))
        return notification

    def deliver_due(self, limit=100):
        """Send what is due; returns how many were attempted."""
        for attempted in range(limit):
            notification = self.store.claim()
            if notification is None:
                return attempted
            self.deliver(notification)
        return limit

    def deliver(self, notification):
        if notification is None:  # another worker holds it
            return
        errors = []
        for channel in domain.channel_order(notification):
            address = domain.address_for(notification, channel)
            try:
                if not address:
                    raise DeliveryFailed(f"no {channel} address for this member")
                self.postbox[channel].send(address, notification["text"])
            except DeliveryFailed as exc:
                errors.append(f"{channel}: {exc}")
                continue
            domain.mark_sent(notification, channel)
            break
        else:
            domain.mark_attempt_failed(notification, "; ".join(errors), self.postbox.policy)
            logger.warning("notification %s not delivered: %s", notification["_id"], errors)
        self.store.release(notification)
