"""Orders over HTTP: placement, views, lifecycle, payments and the hub sales report
(docs/architecture.md §13)."""

from services.common.periods import ReportQuerySchema
from services.gateway.http import json_body, query, route
from services.gateway.idempotency import key_header, key_of
from services.gateway.tables import csv_response, sales_table, wants_csv
from services.orders import schemas

IDEMPOTENCY_HEADER = "Idempotency-Key"


class OrdersRoutes:
    @route(
        "POST",
        "/api/v1/orders",
        body=schemas.PlaceOrderSchema,
        response=schemas.OrderSchema,
        status=201,
        auth=True,
        summary="Place an order (header Idempotency-Key; a retry returns the same order)",
        headers={
            IDEMPOTENCY_HEADER: {
                "required": True,
                "description": "Unique per order you mean to place (a UUID is good); "
                "send the same key when you retry.",
                "schema": {"type": "string", "minLength": 1, "maxLength": 100, "pattern": "[^ \t]"},
            }
        },
    )
    def place_order(self, request):
        actor = self.backend.caller(request)
        key = request.headers.get(IDEMPOTENCY_HEADER)
        return 201, self.backend.orders.place_order(actor, key, json_body(request))

    @route(
        "GET",
        "/api/v1/orders",
        params=schemas.ListOrdersSchema,
        response=schemas.OrderSchema,
        many=True,
        auth=True,
        summary="Orders as buyer, seller or coordinator, newest first",
    )
    def list_orders(self, request):
        actor = self.backend.caller(request)
        return self.backend.orders.list_orders(actor, query(request))

    @route(
        "GET",
        "/api/v1/orders/<order_id>",
        response=schemas.OrderSchema,
        auth=True,
        summary="One order (its buyer, its sellers, the hub coordinator)",
    )
    def get_order(self, request, order_id):
        return self.backend.orders.get_order(self.backend.caller(request), order_id)

    @route(
        "POST",
        "/api/v1/orders/<order_id>/cancel",
        body=schemas.CancelOrderSchema,
        response=schemas.OrderSchema,
        auth=True,
        summary="Cancel: the buyer while pending or confirmed, the coordinator until completed",
        headers=key_header(),
    )
    def cancel_order(self, request, order_id):
        actor = self.backend.caller(request)
        return self.backend.orders.cancel_order(
            actor, order_id, json_body(request), **key_of(request)
        )

    @route(
        "POST",
        "/api/v1/orders/<order_id>/status",
        body=schemas.ChangeStatusSchema,
        response=schemas.OrderSchema,
        auth=True,
        summary="Move the order on: ready_for_pickup or shipped, then completed",
        headers=key_header(),
    )
    def change_order_status(self, request, order_id):
        actor = self.backend.caller(request)
        return self.backend.orders.change_status(
            actor, order_id, json_body(request), **key_of(request)
        )

    @route(
        "POST",
        "/api/v1/orders/<order_id>/payment",
        body=schemas.PaymentSchema,
        response=schemas.OrderSchema,
        auth=True,
        summary="The coordinator records the payment",
        headers=key_header(),
    )
    def record_payment(self, request, order_id):
        actor = self.backend.caller(request)
        return self.backend.orders.record_payment(
            actor, order_id, json_body(request), **key_of(request)
        )

    @route(
        "POST",
        "/api/v1/orders/<order_id>/payment-proof",
        body=schemas.PaymentProofSchema,
        response=schemas.OrderSchema,
        auth=True,
        summary="The buyer sends the reference of their bank transfer, for the coordinator",
        headers=key_header(),
    )
    def send_payment_proof(self, request, order_id):
        actor = self.backend.caller(request)
        return self.backend.orders.send_payment_proof(
            actor, order_id, json_body(request), **key_of(request)
        )

    @route(
        "POST",
        "/api/v1/orders/<order_id>/refund",
        body=schemas.RefundSchema,
        response=schemas.OrderSchema,
        auth=True,
        summary="The coordinator records that a paid, cancelled order was refunded",
        headers=key_header(),
    )
    def settle_refund(self, request, order_id):
        actor = self.backend.caller(request)
        return self.backend.orders.settle_refund(
            actor, order_id, json_body(request), **key_of(request)
        )

    @route(
        "POST",
        "/api/v1/hubs/<hub_id>/counter-sales",
        body=schemas.CounterSaleSchema,
        response=schemas.OrderSchema,
        status=201,
        auth=True,
        summary="A walk-in sale paid in cash (coordinator): stock taken at once, 409 when short",
        headers=key_header(required=True),
    )
    def record_counter_sale(self, request, hub_id):
        actor = self.backend.caller(request)
        return 201, self.backend.orders.record_counter_sale(
            actor, hub_id, json_body(request), **key_of(request)
        )

    @route(
        "GET",
        "/api/v1/hubs/<hub_id>/reports/sales",
        params=ReportQuerySchema,
        response=schemas.SalesReportSchema,
        auth=True,
        csv=True,
        summary="Sales of the hub: totals, by product, by seller",
        operation_id="getSalesReport",
    )
    def sales_report(self, request, hub_id):
        actor = self.backend.caller(request)
        report = self.backend.orders.sales_report(actor, hub_id, query(request))
        if wants_csv(request):
            return csv_response(*sales_table(report), f"sales-{hub_id}")
        return report
