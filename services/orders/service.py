import logging

from nameko.timer import timer

from services.catalogue import contract as catalogue
from services.common.errors import EXPECTED
from services.common.events import subscribe
from services.common.idempotency import Idempotency, idempotent
from services.common.rpc import rpc
from services.common.schemas import page_of
from services.common.service import HealthMixin
from services.common.storage import Storage
from services.community import contract as community
from services.orders import domain, schemas
from services.orders.exceptions import OrderNotFound
from services.orders.repository import OrdersRepository
from services.orders.settings import OrderSettings

logger = logging.getLogger(__name__)

RETRY_SWEEP_INTERVAL = 1.0
RETRY_BATCH = 100


class OrdersService(HealthMixin):
    name = "orders"

    store = Storage(OrdersRepository)
    idempotency = Idempotency()
    settings = OrderSettings()

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
        """Announce again the pending orders catalogue has not answered in time; each
        is claimed under a lease, so replicas never announce the same one together."""
        retry_seconds = self.settings.retry_seconds
        for _ in range(RETRY_BATCH):
            claimed = self.store.claim_unanswered(retry_seconds)
            if claimed is None:
                return
            self.store.apply(claimed["_id"], domain.reannounce, retry_seconds)

    # --- commands and queries ---

    @rpc(expected_exceptions=EXPECTED)
    def place_order(self, actor, idempotency_key, payload):
        """``place_order(actor, "3f2a…", {"hub_id": "…", "items": [{"product_id": "…",
        "quantity": 2}], "fulfilment": {"method": "pickup"}, "payment_method": "cod"})``
        → order ``status: "pending"``; the same key and body again → the same order. The
        hub's coordinator adds ``"on_behalf_of": member_id`` to order for a member."""
        fields = schemas.PlaceOrderSchema.shared().load_or_raise(payload)
        buyer_id, acted_by = domain.buyer_of(actor, fields)
        key = domain.stored_key(domain.idempotency_key(idempotency_key), acted_by)
        request_hash = domain.fingerprint(fields)
        order = self.store.find_by_key(buyer_id, key, acted_by)
        if order is None:
            order = self.store.add_order(self._new_order(actor, key, request_hash, fields))
        return schemas.OrderSchema.shared().dump(domain.check_same_request(order, request_hash))

    def _new_order(self, actor, key, request_hash, fields):
        """A new order, once the caller may place it (for themselves, or for a member)."""
        hub_id, (buyer_id, _) = fields["hub_id"], domain.buyer_of(actor, fields)
        products = self.store.products(item["product_id"] for item in fields["items"])
        members = {buyer_id, *(p["seller_id"] for p in products.values())}
        suspended = self.store.suspended_in(hub_id, members)
        standing = self.store.member_standing(hub_id, buyer_id)
        domain.check_can_place(actor, fields, products, suspended, standing)
        number = self.store.next_number()
        return domain.new_order(
            actor, key, request_hash, fields, products, number, self.settings.retry_seconds
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

    def _change(self, order_id, change, actor, *args):
        """``change(order, actor, *args)`` applied to the order, retried on a version
        conflict; the order as it is now."""
        return schemas.OrderSchema.shared().dump(self.store.apply(order_id, change, actor, *args))

    @rpc(expected_exceptions=EXPECTED)
    def sales_report(self, actor, hub_id, query):
        """``sales_report(actor, hub_id, {"from": "2026-11-01", "to": "2026-11-30"})``
        → order count, gross total, by product and by seller, for completed orders and
        for every order confirmed or later."""
        domain.check_can_see_sales_report(actor, hub_id)
        start, end = domain.report_period(**schemas.ReportQuerySchema.shared().load_or_raise(query))
        report = {"hub_id": hub_id, "from_": start, "to": end}
        return schemas.SalesReportSchema.shared().dump(
            {**report, **self.store.sales_report(hub_id, start, end)}
        )
