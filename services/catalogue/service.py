from services.catalogue import domain, schemas
from services.catalogue.backfill import CodeBackfill
from services.catalogue.repository import CatalogueRepository
from services.catalogue.reservations import Stockkeeper
from services.catalogue.showroom import Showroom
from services.common.errors import EXPECTED
from services.common.events import subscribe
from services.common.idempotency import Idempotency, idempotent
from services.common.rpc import rpc
from services.common.schemas import PageSchema, page_of
from services.common.service import HealthMixin
from services.common.storage import Storage
from services.community import contract as community
from services.orders import contract as orders


class CatalogueService(HealthMixin):
    name = "catalogue"

    store = Storage(CatalogueRepository)
    idempotency = Idempotency()
    showroom = Showroom()
    codes = CodeBackfill()

    @property
    def stockkeeper(self):
        return Stockkeeper(self.store)

    @rpc(expected_exceptions=EXPECTED)
    @idempotent(required=True)
    def create_product(self, actor, payload, idempotency_key=None):
        """``create_product(actor, {"hub_id": "…", "name": "Keripik Tempe", "description":
        "…", "category": "food", "price": 15000, "unit": "pack", "stock": 40},
        idempotency_key="3f2a…")`` → product ``status: "pending_review"``; the same key
        again → the same product. The hub's coordinator adds ``"on_behalf_of": seller_id``
        to submit for a seller. Emits ``product_submitted``."""
        fields = schemas.CreateProductSchema().load_or_raise(payload)
        product_id = domain.product_id_for(actor, idempotency_key)
        standing = self.store.seller_standing(fields["hub_id"], fields.get("on_behalf_of"))
        product = self.store.add_product(
            lambda code: domain.new_product(
                actor, fields, product_id=product_id, code=code, standing=standing
            )
        )
        return schemas.ProductSchema().dump(product)

    @rpc(expected_exceptions=EXPECTED)
    @idempotent
    def update_product(self, actor, product_id, payload):
        """``update_product(actor, product_id, {"price": 17000})`` → product. Emits
        ``product_updated``; a material edit puts it back under review."""
        changes = schemas.UpdateProductSchema().load_or_raise(payload)
        product = domain.edit(self.store.get_product(product_id), actor, changes)
        self.store.save_product(product)
        return schemas.ProductSchema().dump(product)

    @rpc(expected_exceptions=EXPECTED)
    @idempotent(required=True)
    def change_stock(self, actor, product_id, payload, idempotency_key=None):
        """``change_stock(actor, product_id, {"delta": 25}, idempotency_key="3f2a…")`` →
        product; by its seller or the hub's coordinator; never below zero (``Conflict``);
        the same key again is applied once. Emits ``stock_changed``, and ``stock_low``
        when it falls to the threshold."""
        delta = schemas.StockChangeSchema().load_or_raise(payload)["delta"]
        standing = self.store.seller_standing_of(product_id)
        product = self.store.change_stock(
            product_id,
            lambda found: domain.restock(found, actor, delta, standing),
            key=domain.stock_change_key(actor, idempotency_key),
        )
        return schemas.ProductSchema().dump(product)

    @rpc(expected_exceptions=EXPECTED)
    @idempotent
    def approve_product(self, actor, product_id):
        """``approve_product(actor, product_id)`` → product ``status: "approved"``.
        Emits ``product_approved``."""
        product = domain.approve(self.store.get_product(product_id), actor)
        self.store.save_product(product)
        return schemas.ProductSchema().dump(product)

    @rpc(expected_exceptions=EXPECTED)
    @idempotent
    def reject_product(self, actor, product_id, payload):
        """``reject_product(actor, product_id, {"reason": "Foto buram"})`` → product
        ``status: "rejected"``. Emits ``product_rejected``."""
        reason = schemas.RejectSchema().load_or_raise(payload)["reason"]
        product = domain.reject(self.store.get_product(product_id), actor, reason)
        self.store.save_product(product)
        return schemas.ProductSchema().dump(product)

    @rpc(expected_exceptions=EXPECTED)
    def list_products(self, actor, query):
        """``list_products(None, {"hub_id": "…", "q": "keripik", "sort": "price_asc"})``
        → a page of approved products, in their compact showroom form."""
        query = schemas.ShowroomQuerySchema().load_or_raise(query)
        domain.check_can_list(actor, query)
        page, page_size = query.pop("page"), query.pop("page_size")
        items, total = self.showroom.search(self.store, query, page, page_size, query.pop("sort"))
        return page_of(schemas.ProductSummarySchema(many=True).dump(items), page, page_size, total)

    @rpc(expected_exceptions=EXPECTED)
    def showroom_snapshot(self, query=None):
        """``showroom_snapshot({"after": None, "limit": 500})`` → ``{"items": [...],
        "next": "<id>" or None}``: the products on show by id, each with its ``version``
        and ``stock_version``; ask again with ``after: next`` until ``next`` is None."""
        page = schemas.SnapshotPageSchema().load_or_raise(query)
        products, after = self.showroom.snapshot(self.store, page.get("after"), page["limit"])
        return {"items": schemas.ShowroomEntrySchema(many=True).dump(products), "next": after}

    @rpc(expected_exceptions=EXPECTED)
    def get_product(self, actor, product_id):
        """``get_product(actor_or_None, product_id)`` → product with ``stock``; one not
        approved is found only by its seller and the hub's coordinators."""
        product = domain.visible(self.store.find_product(product_id), actor)
        return schemas.ProductSchema().dump(product)

    @rpc(expected_exceptions=EXPECTED)
    def get_product_by_code(self, actor, code):
        """``get_product_by_code(actor_or_None, "k7ma")`` → the product as ``get_product``
        shows it to that actor; any case; ``ProductNotFound`` naming ``code`` otherwise."""
        found = self.store.find_product_by_code(domain.normalise_code(code))
        return schemas.ProductSchema().dump(domain.visible(found, actor, field="code"))

    @rpc(expected_exceptions=EXPECTED)
    def sell_at_counter(self, order_id, hub_id, items):
        """``sell_at_counter(order_id, hub_id, [{"product_id": "…", "quantity": 2}])`` →
        ``{order_id, sold, reason, shortages}``: orders' counter sale takes every line's
        stock or none, at once; the same order again hears the same decision."""
        return self.stockkeeper.sell(order_id, hub_id, items)

    @rpc(expected_exceptions=EXPECTED)
    @idempotent(required=True)
    def record_intake(self, actor, hub_id, payload, idempotency_key=None):
        """``record_intake(coordinator, hub_id, {"product_id": "…", "quantity": 24,
        "note": "dari Bu Siti"}, idempotency_key="3f2a…")`` → intake; the product's
        stock grows once per key (``stock_changed`` tells its seller)."""
        domain.check_can_record_intake(actor, hub_id)
        fields = schemas.IntakeSchema().load_or_raise(payload)
        found = domain.check_intake_product(self.store.find_product(fields["product_id"]), hub_id)
        standing = self.store.seller_standing(hub_id, found["seller_id"])
        product = self.store.change_stock(
            found["_id"],
            lambda product: domain.restock(product, actor, fields["quantity"], standing),
            key=domain.stock_change_key(actor, idempotency_key),
        )
        intake = domain.new_intake(product, actor, fields, idempotency_key)
        return schemas.IntakeRecordSchema().dump(self.store.add_intake(intake))

    @rpc(expected_exceptions=EXPECTED)
    def list_intakes(self, actor, hub_id, query):
        """``list_intakes(coordinator, hub_id, {"page": 1})`` → page of the hub's
        intakes, newest first."""
        domain.check_can_record_intake(actor, hub_id)
        page = PageSchema().load_or_raise(query)
        items, total = self.store.list_intakes(hub_id, page["page"], page["page_size"])
        return page_of(schemas.IntakeRecordSchema(many=True).dump(items), total=total, **page)

    @subscribe("orders", orders.ORDER_PLACED)
    def handle_order_placed(self, event):
        self.stockkeeper.reserve(event)

    @subscribe("orders", orders.ORDER_CANCELLED)
    def handle_order_cancelled(self, event):
        self.stockkeeper.release(event)

    @subscribe("orders", orders.ORDER_STATUS_CHANGED)
    def handle_order_status_changed(self, event):
        self.stockkeeper.settle(event)

    # --- sellers' standing (community events) ---

    @subscribe("community", community.MEMBERSHIP_SUSPENDED)
    def handle_membership_suspended(self, event):
        self._seller_standing(event, suspended=True)

    @subscribe("community", community.MEMBERSHIP_APPROVED)
    def handle_membership_approved(self, event):
        self._seller_standing(event, suspended=False)

    def _seller_standing(self, event, suspended):
        self.store.save_standing(event["data"], suspended, event["occurred_at"])
        seller = domain.seller_standing(event["data"])
        if seller is not None:
            self.store.set_seller_standing(*seller, suspended, event["occurred_at"])
