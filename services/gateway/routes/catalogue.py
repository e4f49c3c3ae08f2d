"""Products over HTTP: submission, curation, showroom search and stock
(docs/architecture.md §13); the showroom and products on show answered from the
gateway's own copy, kept from catalogue's events (§18)."""

from nameko.events import BROADCAST
from nameko.timer import timer

from services.catalogue import contract as catalogue
from services.catalogue import schemas
from services.common.events import listen
from services.common.schemas import PageSchema
from services.gateway.http import CONDITIONAL, cacheable, json_body, json_text, query, route
from services.gateway.idempotency import key_header, key_of
from services.gateway.showroom import Showroom, ShowroomCopy

SYNC_CHECK_SECONDS = 1.0
COPY = {"handler_type": BROADCAST, "reliable_delivery": False}
"""Every gateway process hears every event, on queues of its own (``ShowroomCopy``)."""


class CatalogueRoutes:
    showroom = ShowroomCopy()

    @route(
        "POST",
        "/api/v1/products",
        body=schemas.CreateProductSchema,
        response=schemas.ProductSchema,
        status=201,
        auth=True,
        summary="Submit a product for the hub's showroom (approved sellers)",
        headers=key_header(required=True),
    )
    def create_product(self, request):
        actor = self.backend.caller(request)
        return 201, self.backend.catalogue.create_product(
            actor, json_body(request), **key_of(request)
        )

    @route(
        "GET",
        "/api/v1/products",
        params=schemas.ShowroomQuerySchema,
        response=schemas.ProductSummarySchema,
        many=True,
        summary="The showroom: approved products, filtered, sorted and paginated",
        headers=CONDITIONAL,
        responses={304: None},
    )
    def list_products(self, request):
        """``GET /api/v1/products?hub_id=…&q=keripik`` → a page, from the copy when it
        can answer (catalogue otherwise), with an ETag."""
        actor = self.backend.caller(request, required=False)
        page = self.showroom.page(query(request))
        if page is None:
            page = json_text(self.backend.catalogue.list_products(actor, query(request)))
        return cacheable(request, page, private=actor is not None)

    @route(
        "GET",
        "/api/v1/products/<product_id>",
        response=schemas.ProductSchema,
        summary="A product with its stock (not yet approved: its seller and coordinators)",
        headers=CONDITIONAL,
        responses={304: None},
    )
    def get_product(self, request, product_id):
        """``GET /api/v1/products/<id>``: anonymously from the copy when it shows the
        product; a signed-in caller (who may see more, or just changed it) from catalogue."""
        actor = self.backend.caller(request, required=False)
        product = None if actor else self.showroom.product(product_id)
        if product is None:
            product = json_text(self.backend.catalogue.get_product(actor, product_id))
        return cacheable(request, product, private=actor is not None)

    @route(
        "PATCH",
        "/api/v1/products/<product_id>",
        body=schemas.UpdateProductSchema,
        response=schemas.ProductSchema,
        auth=True,
        summary="Edit a product (its seller); name, description, category or images "
        "send it back to review",
        headers=key_header(),
    )
    def update_product(self, request, product_id):
        actor = self.backend.caller(request)
        return self.backend.catalogue.update_product(
            actor, product_id, json_body(request), **key_of(request)
        )

    @route(
        "POST",
        "/api/v1/products/<product_id>/stock",
        body=schemas.StockChangeSchema,
        response=schemas.ProductSchema,
        auth=True,
        summary="Restock or correct the stock by delta (its seller); never below zero",
        headers=key_header(required=True),
    )
    def change_stock(self, request, product_id):
        actor = self.backend.caller(request)
        return self.backend.catalogue.change_stock(
            actor, product_id, json_body(request), **key_of(request)
        )

    @route(
        "POST",
        "/api/v1/products/<product_id>/approve",
        response=schemas.ProductSchema,
        auth=True,
        summary="Approve a product for the showroom (coordinator of its hub)",
        headers=key_header(),
    )
    def approve_product(self, request, product_id):
        actor = self.backend.caller(request)
        return self.backend.catalogue.approve_product(actor, product_id, **key_of(request))

    @route(
        "POST",
        "/api/v1/products/<product_id>/reject",
        body=schemas.RejectSchema,
        response=schemas.ProductSchema,
        auth=True,
        summary="Reject a product with a reason (coordinator of its hub)",
        headers=key_header(),
    )
    def reject_product(self, request, product_id):
        actor = self.backend.caller(request)
        return self.backend.catalogue.reject_product(
            actor, product_id, json_body(request), **key_of(request)
        )

    # --- goods received at the showroom (consignment intake) ---

    @route(
        "POST",
        "/api/v1/hubs/<hub_id>/intakes",
        body=schemas.IntakeSchema,
        response=schemas.IntakeRecordSchema,
        status=201,
        auth=True,
        summary="Record goods a seller left at the showroom (coordinator); the stock grows",
        headers=key_header(required=True),
    )
    def record_intake(self, request, hub_id):
        actor = self.backend.caller(request)
        return 201, self.backend.catalogue.record_intake(
            actor, hub_id, json_body(request), **key_of(request)
        )

    @route(
        "GET",
        "/api/v1/hubs/<hub_id>/intakes",
        params=PageSchema,
        response=schemas.IntakeRecordSchema,
        many=True,
        auth=True,
        summary="Goods received at the showroom, newest first (coordinator)",
    )
    def list_intakes(self, request, hub_id):
        actor = self.backend.caller(request)
        return self.backend.catalogue.list_intakes(actor, hub_id, query(request))

    # --- the showroom's copy (services/gateway/showroom.py) ---

    @listen("catalogue", catalogue.PRODUCT_APPROVED, **COPY)
    @listen("catalogue", catalogue.PRODUCT_UPDATED, **COPY)
    @listen("catalogue", catalogue.PRODUCT_REJECTED, **COPY)
    def handle_product_changed(self, event):
        """The product as its event's ``version`` has it: on show, or not."""
        self.showroom.apply(Showroom.product_changed, event["data"])

    @listen("catalogue", catalogue.STOCK_CHANGED, **COPY)
    def handle_stock_changed(self, event):
        """Its seller's change: the stock, and the product's update time."""
        self.showroom.apply(Showroom.stock_changed, event["data"])

    @listen("catalogue", catalogue.STOCK_RESERVED, **COPY)
    @listen("catalogue", catalogue.STOCK_SOLD, **COPY)
    @listen("catalogue", catalogue.STOCK_RESERVATION_FAILED, **COPY)
    @listen("catalogue", catalogue.STOCK_RELEASED, **COPY)
    def handle_stock_moved(self, event):
        """The order saga's events and counter sales: the stock levels they left."""
        self.showroom.apply(Showroom.stock_moved, event["data"])

    @timer(interval=SYNC_CHECK_SECONDS)
    def keep_showroom(self):
        """Rebuild the copy from catalogue when it may have missed events: at start,
        after the broker connection came back, and every KOMPOR_SHOWROOM_RESYNC_SECONDS."""
        self.showroom.sync(self.backend.catalogue)
