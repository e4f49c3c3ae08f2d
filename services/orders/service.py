import logging

from nameko.timer import timer

from services.catalogue import contract as catalogue
from services.common.errors import EXPECTED, KomporError
from services.common.events import subscribe
from services.common.idempotency import Idempotency, idempotent
from services.common.periods import days_of, period_of
from services.common.remote import Remote
from services.common.rpc import rpc
from services.common.schemas import page_of
from services.common.service import HealthMixin
from services.common.storage import Storage
from services.community import contract as community
from services.orders import domain, schemas
from services.orders.contract import COUNTER, ONLINE
from services.orders.exceptions import OrderNotFound
from services.orders.repository import OrdersRepository
from services.orders.settings import OrderSettings

logger = logging.getLogger(__name__)

RETRY_SWEEP_INTERVAL = 1.0
RETRY_BATCH = 100
TALLY_SWEEP_INTERVAL = 30.0


class OrdersService(HealthMixin):
    name = "orders"

    store = Storage(OrdersRepository)
    idempotency = Idempotency()
    settings = OrderSettings()
    remote = Remote()

    # --- the product projection (catalogue events) ---

    @subscribe("catalogue", catalogue.PRODUCT_APPROVED)
    def handle_product_approved(self, event):
        self.store.save_product(event["data"], event["occurred_at"])

    @subscribe("catalogue", catalogue.PRODUCT_UPDATED)
    def handle_product_updated(self, event):
        self.store.save_product(event["data"], event["occurred_at"])

    @subscribe("catalogue", catalogue.PRODUCT_REJECTED)
    def handle_product_rejected(self, event):
        self.store.save_product(event["data"], event["occurred_at"])

    # --- the hubs' commission (community events) ---

    @subscribe("community", community.HUB_CREATED)
    def handle_hub_created(self, event):
        self.store.save_hub(event["data"], event["occurred_at"])

    @subscribe("community", community.HUB_UPDATED)
    def handle_hub_updated(self, event):
        self.store.save_hub(event["data"], event["occurred_at"])

    # --- the hubs' agents (community events) ---

    @subscribe("community", community.AGENT_APPOINTED)
    def handle_agent_appointed(self, event):
        self.store.save_agent(event["data"], event["occurred_at"])

    # --- who is suspended (community events) ---

    @subscribe("community", community.MEMBERSHIP_SUSPENDED)
    def handle_membership_suspended(self, event):
        self.store.save_standing(event["data"], True, event["occurred_at"])

    @subscribe("community", community.MEMBERSHIP_APPROVED)
    def handle_membership_approved(self, event):
        self.store.save_standing(event["data"], False, event["occurred_at"])

    # --- the stock saga ---

    @subscribe("catalogue", catalogue.STOCK_RESERVED)
    def handle_stock_reserved(self, event):
        self._answer(event, domain.stock_reserved)

    @subscribe("catalogue", catalogue.STOCK_RESERVATION_FAILED)
    def handle_stock_reservation_failed(self, event):
        data = event["data"]
        reason = data.get("reason") or "Not enough stock."
        self._answer(event, domain.stock_reservation_failed, reason, data.get("shortages"))

    def _answer(self, event, change, *args):
        try:
            self.store.apply(event["data"]["order_id"], change, *args)
        except OrderNotFound:
            logger.warning("%s names an unknown order; ignored", event["event_id"])

    @timer(interval=RETRY_SWEEP_INTERVAL)
    def reannounce_unanswered(self):
        """Announce again the pending orders catalogue has not answered in time, and
        sell again a counter sale a crash left pending; each is claimed under a lease,
        so replicas never take the same one together."""
        retry_seconds = self.settings.retry_seconds
        for _ in range(RETRY_BATCH):
            claimed = self.store.claim_unanswered(retry_seconds)
            if claimed is None:
                return
            if claimed.get("channel") == COUNTER:
                self._sell_again(claimed["_id"])
            else:
                self.store.apply(claimed["_id"], domain.reannounce, retry_seconds)

    @timer(interval=TALLY_SWEEP_INTERVAL)
    def tally_overdue(self):
        """Count in the network report's tallies the completed orders a crash left
        uncounted (``OrdersRepository.tally``: never twice)."""
        while self.store.tally_overdue(RETRY_BATCH) == RETRY_BATCH:
            continue

    def _sell_again(self, order_id):
        try:
            self._sell(self.store.get_order(order_id))
        except KomporError as error:  # catalogue away or busy: the next lease tries again
            logger.warning("counter sale %s still pending: %s", order_id, error)

    def _sell(self, order):
        """A pending counter sale's one step: catalogue takes every line's stock or
        none (once per order: a repeat hears the decision made), and the answer moves
        the order in one write."""
        if order["status"] != domain.PENDING:
            return order
        items = [
            {"product_id": li["product_id"], "quantity": li["quantity"]} for li in order["items"]
        ]
        decision = self.remote.catalogue.sell_at_counter(order["_id"], order["hub_id"], items)
        return self.store.apply(order["_id"], domain.counter_sale_decided, decision)

    # --- commands and queries ---

    @rpc(expected_exceptions=EXPECTED)
    def place_order(self, actor, idempotency_key, payload, channel=ONLINE, broadcast_id=None):
        """``place_order(actor, "3f2a…", {"hub_id": "…", "items": [{"product_id": "…",
        "quantity": 2}], "fulfilment": {"method": "pickup"}, "payment_method": "cod"})``
        → order ``status: "pending"``; the same key and body again → the same order. The
        hub's coordinator adds ``"on_behalf_of": member_id`` to order for a member, an
        agent of the hub ``"customer": {"name": "Bu Tini", "phone": "0812…"}`` to order
        for a customer (``channel: "agent"``); messaging passes ``channel="sms"`` or
        ``"whatsapp"``, and ``broadcast_id`` when the text answered a broadcast."""
        fields = schemas.PlaceOrderSchema.shared().load_or_raise(payload)
        channel = domain.check_channel(channel)
        broadcast_id = domain.check_broadcast_id(broadcast_id)
        buyer_id, acted_by = domain.buyer_of(actor, fields)
        key = domain.stored_key(domain.idempotency_key(idempotency_key), acted_by)
        request_hash = domain.fingerprint(fields)
        order = self.store.find_by_key(buyer_id, key, acted_by)
        if order is None:
            new = self._new_order(actor, key, request_hash, fields, channel, broadcast_id)
            order = self.store.add_order(new)
        return schemas.OrderSchema.shared().dump(domain.check_same_request(order, request_hash))

    def _new_order(self, actor, key, request_hash, fields, channel, broadcast_id):
        """A new order, once the caller may place it (for themselves, for a member, or
        for a customer)."""
        hub_id, (buyer_id, _) = fields["hub_id"], domain.buyer_of(actor, fields)
        products = self.store.products(item["product_id"] for item in fields["items"])
        members = {buyer_id, *(p["seller_id"] for p in products.values())}
        suspended = self.store.suspended_in(hub_id, members)
        standing = self.store.member_standing(hub_id, buyer_id)
        agent = self.store.agent_of(hub_id, buyer_id) if fields.get("customer") else None
        domain.check_can_place(actor, fields, products, suspended, standing, agent)
        number = self.store.next_number()
        return domain.new_order(
            actor,
            key,
            request_hash,
            fields,
            products,
            number,
            self.settings.retry_seconds,
            channel=channel,
            commission_percent=self.store.commission_of(hub_id),
            agent=agent,
            broadcast_id=broadcast_id,
        )

    @rpc(expected_exceptions=EXPECTED)
    def record_counter_sale(self, actor, hub_id, payload, idempotency_key=None):
        """``record_counter_sale(coordinator, hub_id, {"items": [{"product_id": "…",
        "quantity": 2}], "buyer_name": "Bu Tini"}, idempotency_key="3f2a…")`` → order
        ``completed`` and paid in cash (``channel: "counter"``), its stock taken at once;
        ``NotEnoughStock`` naming the short lines (nothing taken); the same key again →
        the same sale."""
        domain.check_can_sell_at_counter(actor, hub_id)
        fields = {**schemas.CounterSaleSchema.shared().load_or_raise(payload), "hub_id": hub_id}
        key = domain.stored_key(domain.idempotency_key(idempotency_key), actor["member_id"])
        request_hash = domain.fingerprint(fields)
        order = self.store.find_by_key(None, key, actor["member_id"])
        if order is None:
            order = self.store.add_order(self._new_counter_sale(actor, key, request_hash, fields))
        order = self._sell(domain.check_same_request(order, request_hash))
        return schemas.OrderSchema.shared().dump(domain.check_counter_sale_made(order))

    def _new_counter_sale(self, actor, key, request_hash, fields):
        products = self.store.products(item["product_id"] for item in fields["items"])
        return domain.new_counter_sale(
            actor,
            key,
            request_hash,
            fields,
            products,
            self.store.next_number(),
            self.store.commission_of(fields["hub_id"]),
            self.settings.retry_seconds,
        )

    @rpc(expected_exceptions=EXPECTED)
    def get_order(self, actor, order_id):
        """``get_order(actor, order_id)`` → order, for its buyer, its sellers and the
        hub's coordinator; ``NotFound`` for anyone else."""
        order = domain.check_can_view(self.store.get_order(order_id), actor)
        return schemas.OrderSchema.shared().dump(order)

    @rpc(expected_exceptions=EXPECTED)
    def get_order_by_number(self, actor, number):
        """``get_order_by_number(actor, "kd 123")`` → order ``KD-000123`` as ``get_order``
        shows it; ``OrderNotFound`` naming ``number`` otherwise."""
        order = self.store.find_by_number(domain.normalise_number(number))
        return schemas.OrderSchema.shared().dump(
            domain.check_can_view_numbered(order, actor, number)
        )

    @rpc(expected_exceptions=EXPECTED)
    def list_orders(self, actor, query):
        """``list_orders(actor, {"as": "seller", "hub_id": "…", "status": "confirmed",
        "page": 1, "page_size": 20})`` → page of orders, newest first."""
        params = schemas.ListOrdersSchema.shared().load_or_raise(query)
        scope = domain.list_scope(actor, params["as_"], params["hub_id"])
        page, page_size = params["page"], params["page_size"]
        items, total = self.store.list_orders(scope, params["status"], page, page_size)
        return page_of(schemas.OrderSchema.shared(many=True).dump(items), page, page_size, total)

    @rpc(expected_exceptions=EXPECTED)
    @idempotent
    def cancel_order(self, actor, order_id, payload=None):
        """``cancel_order(actor, order_id, {"reason": "…"})`` → order ``cancelled``;
        emits ``order_cancelled`` so catalogue releases reserved stock."""
        reason = schemas.CancelOrderSchema.shared().load_or_raise(payload)["reason"]
        return self._change(order_id, domain.cancel, actor, reason)

    @rpc(expected_exceptions=EXPECTED)
    @idempotent
    def change_status(self, actor, order_id, payload):
        """``change_status(actor, order_id, {"status": "shipped"})`` → order."""
        status = schemas.ChangeStatusSchema.shared().load_or_raise(payload)["status"]
        return self._change(order_id, domain.change_status, actor, status)

    @rpc(expected_exceptions=EXPECTED)
    @idempotent
    def record_payment(self, actor, order_id, payload):
        """``record_payment(actor, order_id, {"status": "paid"})`` → order ``paid``."""
        schemas.PaymentSchema.shared().load_or_raise(payload)
        return self._change(order_id, domain.mark_paid, actor)

    @rpc(expected_exceptions=EXPECTED)
    @idempotent
    def send_payment_proof(self, actor, order_id, payload):
        """``send_payment_proof(buyer, order_id, {"reference": "TRF 0912 7781"})`` →
        order with ``payment_reference``; emits ``payment_proof_sent`` for the hub's
        coordinator, who checks it and records the payment."""
        reference = schemas.PaymentProofSchema.shared().load_or_raise(payload)["reference"]
        return self._change(order_id, domain.send_payment_proof, actor, reference)

    @rpc(expected_exceptions=EXPECTED)
    @idempotent
    def settle_refund(self, actor, order_id, payload=None):
        """``settle_refund(coordinator, order_id, {"reference": "TRF 1203"})`` → order
        ``refund_status: "settled"``; emits ``refund_settled`` (the buyer is told)."""
        reference = schemas.RefundSchema.shared().load_or_raise(payload)["reference"]
        return self._change(order_id, domain.settle_refund, actor, reference)

    def _change(self, order_id, change, actor, *args):
        """``change(order, actor, *args)`` applied to the order, retried on a version
        conflict; the order as it is now."""
        return schemas.OrderSchema.shared().dump(self.store.apply(order_id, change, actor, *args))

    @rpc(expected_exceptions=EXPECTED)
    def sales_report(self, actor, hub_id, query):
        """``sales_report(actor, hub_id, {"from": "2026-11-01", "to": "2026-11-30"})``
        → order count, gross total, by product, by seller, by channel (all five) and by
        agent, for completed orders and for every order confirmed or later, of the
        orders placed in the period."""
        domain.check_can_see_sales_report(actor, hub_id)
        start, end = period_of(query)
        report = {"hub_id": hub_id, "from_": start, "to": end}
        return schemas.SalesReportSchema.shared().dump(
            {**report, **self.store.sales_report(hub_id, start, end)}
        )

    @rpc(expected_exceptions=EXPECTED)
    def network_sales(self, actor, query):
        """``network_sales(admin, {"from": "2026-11-01", "to": "2026-11-30"})`` →
        ``[{hub_id, orders, gross, by_channel: {channel: {orders, gross}}, by_agent:
        [{agent_id, member_id, orders, gross, agent_commission}]}]``: orders completed in
        the period's WIB days, per hub, from the hubs' monthly tallies."""
        domain.check_can_see_network(actor)
        rows = self.store.network_sales(*days_of(query))
        return schemas.HubSalesSchema(many=True).dump(rows)
