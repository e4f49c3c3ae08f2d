"""Orders' requests and responses, for its service and for the gateway."""

import marshmallow
from marshmallow import fields, pre_dump, validate, validates_schema

from services.common.errors import ValidationError
from services.common.schemas import (
    TEXT_ERRORS,
    PageSchema,
    Schema,
    Timestamp,
    choice,
    text,
)
from services.orders import contract

MAX_LINES = 50
MAX_QUANTITY = 999


def _flatten(messages, prefix=""):
    """``{"items": {0: {"quantity": [..]}}}`` → ``{"items.0.quantity": [..]}``."""
    flat = {}
    for key, value in messages.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


class FlatSchema(Schema):
    """Nested errors are named by their path, so every detail is ``{field: [messages]}``."""

    def load_or_raise(self, data, **kwargs):
        try:
            return super().load_or_raise(data, **kwargs)
        except ValidationError as exc:
            details = _flatten(exc.details)
            fields_named = ", ".join(sorted(details))
            raise ValidationError(f"Invalid request: check {fields_named}.", details) from None


class ItemSchema(Schema):
    product_id = text(100, required=True)
    quantity = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(
            min=1, max=MAX_QUANTITY, error=f"Send a whole number from 1 to {MAX_QUANTITY}."
        ),
        error_messages={
            "invalid": f"Send a whole number from 1 to {MAX_QUANTITY}.",
            "required": "Required; send how many you want.",
        },
    )


class FulfilmentSchema(Schema):
    method = choice(contract.FULFILMENT_METHODS, required=True)
    address = text(500, load_default=None, allow_none=True)

    OPENAPI_EXTRA = {  # for the API document: what address_for_delivery checks
        "anyOf": [
            {"properties": {"method": {"enum": [contract.PICKUP]}}},
            {"required": ["address"], "properties": {"address": {"type": "string"}}},
        ]
    }

    @validates_schema
    def address_for_delivery(self, data, **kwargs):
        if data.get("method") == contract.DELIVERY and not (data.get("address") or "").strip():
            raise marshmallow.ValidationError(
                "Required for delivery; send the full delivery address.", "address"
            )


class PlaceOrderSchema(FlatSchema):
    hub_id = text(100, required=True)
    items = fields.List(
        fields.Nested(ItemSchema),
        required=True,
        validate=validate.Length(min=1, max=MAX_LINES, error=f"Send from 1 to {MAX_LINES} items."),
        error_messages={"invalid": "Send a list of items, each with product_id and quantity."},
    )
    fulfilment = fields.Nested(FulfilmentSchema, required=True)
    payment_method = choice(contract.PAYMENT_METHODS, required=True)
    note = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=500, error="Send at most {max} characters."),
        error_messages=TEXT_ERRORS,
    )
    on_behalf_of = text(
        100,
        metadata={
            "description": "The hub's coordinator ordering for an approved member of the "
            "hub: the member's id (the order is theirs)."
        },
    )

    @validates_schema
    def one_line_per_product(self, data, **kwargs):
        seen = set()
        for item in data.get("items") or ():
            if item["product_id"] in seen:
                raise marshmallow.ValidationError(
                    f"Product {item['product_id']} is listed twice; send one line with the "
                    "total quantity.",
                    "items",
                )
            seen.add(item["product_id"])


class CancelOrderSchema(Schema):
    reason = text(500, load_default=None, allow_none=True)


class ChangeStatusSchema(Schema):
    status = choice(contract.FULFILMENT_STATUSES, required=True)


class PaymentSchema(Schema):
    status = choice((contract.PAID,), required=True)


class ListOrdersSchema(PageSchema):
    as_ = choice(contract.VIEWS, data_key="as", load_default=contract.DEFAULT_VIEW)
    hub_id = text(100, load_default=None)
    status = choice(contract.STATUSES, load_default=None)


class LineSchema(Schema):
    product_id = fields.String()
    code = fields.String(allow_none=True)
    seller_id = fields.String()
    name = fields.String()
    unit = fields.String(allow_none=True)
    unit_price = fields.Integer()
    quantity = fields.Integer()
    line_total = fields.Integer()
    status = fields.String(
        metadata={
            "description": "The order's status, or further along: how far this line's "
            "seller has fulfilled their part while the order waits for the others."
        }
    )


class FulfilmentOutSchema(Schema):
    method = fields.String()
    address = fields.String(allow_none=True)


class HistorySchema(Schema):
    status = fields.String()
    by = fields.String()
    acted_by = fields.String(
        allow_none=True, metadata={"description": "The coordinator who acted for `by`."}
    )
    at = Timestamp()


class ShortageSchema(Schema):
    product_id = fields.String()
    requested = fields.Integer()
    available = fields.Integer()


class OrderSchema(Schema):
    id = fields.String(attribute="_id")
    number = fields.String()
    hub_id = fields.String()
    buyer_id = fields.String()
    acted_by = fields.String(
        allow_none=True,
        metadata={"description": "The coordinator who placed it for the buyer, if one did."},
    )
    seller_ids = fields.List(fields.String())
    status = fields.String()
    items = fields.List(fields.Nested(LineSchema))
    total = fields.Integer()
    fulfilment = fields.Nested(FulfilmentOutSchema)
    payment_method = fields.String()
    payment_status = fields.String()
    note = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    shortages = fields.List(fields.Nested(ShortageSchema))
    cancelled_by = fields.String(allow_none=True)
    paid_at = Timestamp(allow_none=True)
    paid_by = fields.String(allow_none=True)
    history = fields.List(fields.Nested(HistorySchema))
    created_at = Timestamp()
    updated_at = Timestamp()

    @pre_dump
    def lines_with_status(self, order, **kwargs):
        status = order.get("status")
        items = [
            {**line, "status": contract.line_status(status, line.get("status"))}
            for line in order.get("items") or ()
        ]
        return {**order, "items": items}


class ProductSalesSchema(Schema):
    product_id = fields.String()
    name = fields.String()
    quantity = fields.Integer()
    total = fields.Integer()
    order_count = fields.Integer()


class SellerSalesSchema(Schema):
    seller_id = fields.String()
    quantity = fields.Integer()
    total = fields.Integer()
    order_count = fields.Integer()


class SalesSchema(Schema):
    order_count = fields.Integer()
    gross_total = fields.Integer()
    by_product = fields.List(fields.Nested(ProductSalesSchema))
    by_seller = fields.List(fields.Nested(SellerSalesSchema))


class SalesReportSchema(Schema):
    hub_id = fields.String()
    from_ = Timestamp(data_key="from", allow_none=True)
    to = Timestamp(allow_none=True)
    completed = fields.Nested(SalesSchema)
    confirmed = fields.Nested(SalesSchema)
