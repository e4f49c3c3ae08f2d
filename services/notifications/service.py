from nameko.timer import timer

from services.catalogue import contract as catalogue
from services.common.errors import EXPECTED
from services.common.events import subscribe
from services.common.rpc import rpc
from services.common.schemas import PageSchema, page_of
from services.common.service import HealthMixin
from services.common.storage import Storage
from services.community import contract as community
from services.ledger import contract as ledger
from services.messaging import contract as messaging
from services.notifications import domain, schemas
from services.notifications.channels import Channels
from services.notifications.delivery import Courier
from services.notifications.repository import NotificationsRepository
from services.orders import contract as orders

DELIVERY_INTERVAL = 1.0


class NotificationsService(HealthMixin):
    """Tells members what happened (the README's "Who is told what"), from its own
    projections of contacts, hubs and memberships (docs/architecture.md §8): sending
    never calls another service."""

    name = "notifications"

    store = Storage(NotificationsRepository)
    postbox = Channels()

    @property
    def courier(self):
        return Courier(self.store, self.postbox)

    def _hub(self, data):
        return self.store.get_hub(data["hub_id"])

    def _tell_hub(self, event, tell, people_of=None):
        """``tell`` what happened at the event's hub: to ``people_of`` the hub (its
        members, its coordinators) when it is news for them."""
        data = event["data"]
        if people_of is None:
            messages = tell(data, self._hub(data))
        else:
            messages = tell(data, self._hub(data), people_of(data["hub_id"]))
        self.courier.notify(event, messages)

    # --- community ---------------------------------------------------------------

    @subscribe("community", community.MEMBER_REGISTERED)
    def handle_member_registered(self, event):
        self.store.save_contact(domain.contact_from(event["data"]), event["occurred_at"])
        self.store.wake_waiting_for(event["data"]["member_id"])
        self.courier.notify(event, domain.tell_new_member(event["data"]))

    @subscribe("community", community.MEMBER_UPDATED)
    def handle_member_updated(self, event):
        self.store.save_contact(domain.contact_from(event["data"]), event["occurred_at"])
        self.store.wake_waiting_for(event["data"]["member_id"])

    @subscribe("community", community.OTP_ISSUED)
    def handle_otp_issued(self, event):
        """A one-time code: by SMS at once, ahead of every other message."""
        self.courier.send_code(event)

    @subscribe("community", community.HUB_CREATED)
    def handle_hub_created(self, event):
        self.store.save_hub(domain.hub_from(event["data"]), event["occurred_at"])
        self.store.save_hub_settings(domain.hub_settings_from(event["data"]), event["occurred_at"])

    @subscribe("community", community.HUB_UPDATED)
    def handle_hub_updated(self, event):
        self.store.save_hub_settings(domain.hub_settings_from(event["data"]), event["occurred_at"])

    @subscribe("community", community.COORDINATOR_ASSIGNED)
    def handle_coordinator_assigned(self, event):
        data = event["data"]
        self.store.save_membership(domain.coordinator_from(data), event["occurred_at"])
        self.courier.notify(event, domain.tell_new_coordinator(data, self._hub(data)))

    @subscribe("community", community.COORDINATOR_REMOVED)
    def handle_coordinator_removed(self, event):
        data = event["data"]
        self.store.save_membership(domain.coordinator_removed_from(data), event["occurred_at"])

    @subscribe("community", community.MEMBERSHIP_REQUESTED)
    def handle_membership_requested(self, event):
        data = event["data"]
        membership = domain.membership_from(community.MEMBERSHIP_REQUESTED, data)
        self.store.save_membership(membership, event["occurred_at"])
        messages = domain.tell_coordinators_of_application(
            data,
            self._hub(data),
            self.store.coordinators_of(data["hub_id"]),
            self.store.get_contact(data["member_id"]),
        )
        self.courier.notify(event, messages)

    @subscribe("community", community.MEMBERSHIP_APPROVED)
    def handle_membership_approved(self, event):
        self._membership_decided(event, community.MEMBERSHIP_APPROVED)

    @subscribe("community", community.MEMBERSHIP_REJECTED)
    def handle_membership_rejected(self, event):
        self._membership_decided(event, community.MEMBERSHIP_REJECTED)

    @subscribe("community", community.MEMBERSHIP_SUSPENDED)
    def handle_membership_suspended(self, event):
        self._membership_decided(event, community.MEMBERSHIP_SUSPENDED)

    def _membership_decided(self, event, event_type):
        data = event["data"]
        membership = domain.membership_from(event_type, data)
        self.store.save_membership(membership, event["occurred_at"])
        self.courier.notify(event, domain.tell_applicant(event_type, data, self._hub(data)))

    @subscribe("community", community.TRAINING_SCHEDULED)
    def handle_training_scheduled(self, event):
        self._tell_hub(event, domain.tell_hub_members_of_training, self.store.members_of)

    @subscribe("community", community.TRAINING_COMPLETED)
    def handle_training_completed(self, event):
        self._tell_hub(event, domain.tell_trainee)

    @subscribe("community", community.CONTACT_ADDED)
    def handle_contact_added(self, event):
        """A phone new to a group: who added it, and how to stop broadcasts."""
        self.courier.notify(event, domain.tell_new_contact(event["data"]))

    @subscribe("community", community.BROADCAST_REQUESTED)
    def handle_broadcast_requested(self, event):
        """One message per phone, stored in a few bulk writes; the timer sends them at
        ``KOMPOR_BROADCAST_RATE``, checking each phone's consent as it goes."""
        self.courier.queue(event, domain.tell_broadcast(event["data"]))

    # --- catalogue ---------------------------------------------------------------

    @subscribe("catalogue", catalogue.PRODUCT_SUBMITTED)
    def handle_product_submitted(self, event):
        self._tell_hub(event, domain.tell_coordinators_of_product, self.store.coordinators_of)

    @subscribe("catalogue", catalogue.PRODUCT_APPROVED)
    def handle_product_approved(self, event):
        self._product_curated(event, "product_approved")

    @subscribe("catalogue", catalogue.PRODUCT_REJECTED)
    def handle_product_rejected(self, event):
        self._product_curated(event, "product_rejected")

    def _product_curated(self, event, template):
        data = event["data"]
        messages = domain.tell_seller_of_curation(template, data, self._hub(data))
        self.courier.notify(event, messages)

    @subscribe("catalogue", catalogue.STOCK_LOW)
    def handle_stock_low(self, event):
        self.courier.notify(event, domain.tell_seller_of_low_stock(event["data"]))

    @subscribe("catalogue", catalogue.STOCK_CHANGED)
    def handle_stock_changed(self, event):
        self._tell_hub(event, domain.tell_seller_of_stock_change)

    # --- orders ------------------------------------------------------------------

    @subscribe("orders", orders.ORDER_PLACED)
    def handle_order_placed(self, event):
        data = event["data"]
        hub = self._hub(data)
        messages = domain.tell_sellers_of_order("order_placed_seller", data)
        messages += domain.tell_buyer_acted_for(data, hub)
        agent = self.store.get_contact(data["buyer_id"])
        self.courier.notify(event, messages + domain.tell_customer_of_order(data, hub, agent))

    @subscribe("orders", orders.ORDER_CONFIRMED)
    def handle_order_confirmed(self, event):
        self._tell_hub(event, domain.tell_buyer_of_confirmation)

    @subscribe("orders", orders.ORDER_REJECTED)
    def handle_order_rejected(self, event):
        self.courier.notify(event, domain.tell_buyer("order_rejected", event["data"]))

    @subscribe("orders", orders.ORDER_REJECTED)
    def handle_order_rejected_for_sellers(self, event):
        """The sellers asked to prepare a rejected order are told to stop."""
        self.courier.notify(event, domain.tell_sellers_of_rejection(event["data"]))

    @subscribe("orders", orders.ORDER_STATUS_CHANGED)
    def handle_order_status_changed(self, event):
        self._tell_hub(event, domain.tell_buyer_of_status)

    @subscribe("orders", orders.ORDER_CANCELLED)
    def handle_order_cancelled(self, event):
        self.courier.notify(event, domain.tell_of_cancellation(event["data"]))

    @subscribe("orders", orders.ORDER_PAID)
    def handle_order_paid(self, event):
        self.courier.notify(event, domain.tell_buyer("order_paid", event["data"]))

    @subscribe("orders", orders.PAYMENT_PROOF_SENT)
    def handle_payment_proof_sent(self, event):
        self._tell_hub(event, domain.tell_coordinators_of_payment_proof, self.store.coordinators_of)

    @subscribe("orders", orders.REFUND_SETTLED)
    def handle_refund_settled(self, event):
        self.courier.notify(event, domain.tell_buyer_of_refund(event["data"]))

    # --- ledger ------------------------------------------------------------------

    @subscribe("ledger", ledger.PAYOUT_RECORDED)
    def handle_payout_recorded(self, event):
        self._tell_hub(event, domain.tell_seller_of_payout)

    @subscribe("ledger", ledger.ADJUSTMENT_RECORDED)
    def handle_adjustment_recorded(self, event):
        self._tell_hub(event, domain.tell_seller_of_adjustment)

    # --- messaging ---------------------------------------------------------------

    @subscribe("messaging", messaging.REPLY_READY)
    def handle_reply_ready(self, event):
        """The answer to a member's text message, sent as it was written."""
        self.courier.send(domain.reply_from(event))

    @subscribe("messaging", messaging.BROADCAST_CONSENT_CHANGED)
    def handle_broadcast_consent_changed(self, event):
        """``BERHENTI`` / ``MULAI`` from a phone: the newest word counts when each
        broadcast or welcome is sent."""
        self.store.save_consent(domain.consent_from(event["data"]), event["occurred_at"])

    # --- delivery ----------------------------------------------------------------

    @timer(interval=DELIVERY_INTERVAL)
    def deliver_due(self):
        """Retry what is due, then send broadcasts at their pace until the next tick;
        each notification is claimed under a lease."""
        self.courier.deliver_due(seconds=DELIVERY_INTERVAL)

    @rpc(expected_exceptions=EXPECTED)
    def broadcast_counts(self, broadcast_id):
        """``broadcast_counts("9f1c…")`` → ``{"total": 300, "queued": 40, "sent": 250,
        "failed": 0, "opted_out": 10}``: how a broadcast's messages fare (zeros for
        an id not heard of). No actor: the gateway asks community first."""
        return domain.broadcast_counts(self.store.count_broadcast(broadcast_id))

    @rpc(expected_exceptions=EXPECTED)
    def list_notifications(self, actor, query):
        """``list_notifications(actor, {"page": 1, "page_size": 20})`` → the caller's
        notifications, newest first, with delivery status."""
        page = PageSchema().load_or_raise(query)
        items, total = self.store.list_for(actor["member_id"], page["page"], page["page_size"])
        return page_of(schemas.NotificationSchema(many=True).dump(items), total=total, **page)
