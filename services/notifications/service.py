from nameko.timer import timer

from services.common.errors import EXPECTED
from services.common.events import subscribe
from services.common.rpc import rpc
from services.common.schemas import PageSchema, page_of
from services.common.service import HealthMixin
from services.common.storage import Storage
from services.notifications import domain
from services.notifications.channels import Channels
from services.notifications.delivery import Courier
from services.notifications.repository import NotificationsRepository
from services.notifications.schemas import NotificationSchema

DELIVERY_INTERVAL = 1.0


class NotificationsService(HealthMixin):
    name = "notifications"

    store = Storage(NotificationsRepository)
    postbox = Channels()

    @property
    def courier(self):
        return Courier(self.store, self.postbox)

    @subscribe("community", "member_registered")
    def handle_member_registered(self, event):
        contact = self.store.save_contact(domain.contact_from(event["data"]), event["occurred_at"])
        self.courier.notify(event, contact, "welcome", name=contact["name"])

    @subscribe("community", "member_updated")
    def handle_member_updated(self, event):
        self.store.save_contact(domain.contact_from(event["data"]), event["occurred_at"])

    @timer(interval=DELIVERY_INTERVAL)
    def deliver_due(self):
        """Retry what is due; each notification is claimed under a lease."""
        self.courier.deliver_due()

    @rpc(expected_exceptions=EXPECTED)
    def list_notifications(self, actor, query):
        """``list_notifications(actor, {"page": 1, "page_size": 20})`` → the caller's
        notifications, newest first, with delivery status."""
        page = PageSchema().load_or_raise(query)
        items, total = self.store.list_for(actor["member_id"], page["page"], page["page_size"])
        return page_of(NotificationSchema(many=True).dump(items), total=total, **page)
