"""Products over HTTP: submission, curation, showroom search and stock
(docs/architecture.md §13)."""

from services.catalogue import schemas
from services.common.schemas import PageSchema
from services.gateway.http import json_body, query, route
from services.gateway.idempotency import key_header, key_of


class CatalogueRoutes:
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
    )
    def list_products(self, request):
        actor = self.backend.caller(request, required=False)
        return self.backend.catalogue.list_products(actor, query(request))

    @route(
        "GET",
        "/api/v1/products/<product_id>",
        response=schemas.ProductSchema,
        summary="A product with its stock (not yet approved: its seller and coordinators)",
    )
    def get_product(self, request, product_id):
        actor = self.backend.caller(request, required=False)
        return self.backend.catalogue.get_product(actor, product_id)

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
