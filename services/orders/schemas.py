"""Orders' requests and responses, for its service and for the gateway."""

import marshmallow
from marshmallow import fields, pre_dump, validate, validates_schema

from services.common.commission import DEFAULT_COMMISSION_PERCENT
from services.common.schemas import (
    TEXT_ERRORS,
    FlatSchema,
    MobilePhone,
    PageSchema,
    Phone,
    Schema,
    Timestamp,
    choice,
    text,
)
from services.orders import contract

MAX_LINES = 50
MAX_QUANTITY = 999
MAX_CUSTOMER_NAME = 80


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


class ItemsSchema(FlatSchema):
    """What a request for goods carries: one line per product."""

    items = fields.List(
        fields.Nested(ItemSchema),
        required=True,
        validate=validate.Length(min=1, max=MAX_LINES, error=f"Send from 1 to {MAX_LINES} items."),
        error_messages={"invalid": "Send a list of items, each with product_id and quantity."},
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


class CustomerInSchema(Schema):
    """Who an agent orders for: a phone that receives SMS (their order's messages go
    there), and a name if they give one."""

    name = text(MAX_CUSTOMER_NAME, load_default=None, allow_none=True)
    phone = MobilePhone(
        required=True,
        error_messages={**TEXT_ERRORS, "required": "Required; send the customer's mobile number."},
    )


class PlaceOrderSchema(ItemsSchema):
    hub_id = text(100, required=True)
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
    customer = fields.Nested(
        CustomerInSchema,
        metadata={
            "description": "An agent of the hub ordering for someone who is not a member: "
            "the order is the agent's (channel agent), the customer gets its messages."
        },
    )

    OPENAPI_EXTRA = {"not": {"required": ["customer", "on_behalf_of"]}}

    @validates_schema
    def customer_or_on_behalf_of(self, data, **kwargs):
        if data.get("customer") is not None and data.get("on_behalf_of") is not None:
            raise marshmallow.ValidationError(
                "An order is for a customer (an agent's) or for a member (the coordinator's "
                "on_behalf_of), not both; leave one out.",
                "customer",
            )


class CounterSaleSchema(ItemsSchema):
    """A walk-in sale at the showroom, paid in cash there and then."""

    buyer_name = text(100, metadata={"description": "Who bought, if they want it noted."})
    buyer_phone = Phone(error_messages=TEXT_ERRORS)


class PaymentProofSchema(Schema):
    reference = text(
        100,
        required=True,
        metadata={"description": "The reference of the transfer, as the buyer's bank gave it."},
    )


class RefundSchema(Schema):
    reference = text(
        100,
        load_default=None,
        allow_none=True,
        metadata={"description": "The reference of the refund transfer, if it was one."},
    )


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


class CustomerSchema(Schema):
    name = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)


class OrderSchema(Schema):
    id = fields.String(attribute="_id")
    number = fields.String()
    hub_id = fields.String()
    buyer_id = fields.String(
        allow_none=True, metadata={"description": "null for a counter sale: no buyer account."}
    )
    customer = fields.Nested(
        CustomerSchema,
        allow_none=True,
        dump_default=None,
        metadata={
            "description": "Who an agent ordered for, or a counter sale's buyer as the "
            "coordinator noted them."
        },
    )
    channel = fields.String(
        dump_default=contract.ONLINE,
        metadata={"description": f"Where it came from: {', '.join(contract.CHANNELS)}."},
    )
    commission_percent = fields.Integer(
        dump_default=DEFAULT_COMMISSION_PERCENT,
        metadata={"description": "The hub's commission when the order was placed."},
    )
    agent_id = fields.String(
        allow_none=True,
        dump_default=None,
        metadata={"description": "The agent who ordered it for the customer (channel agent)."},
    )
    agent_commission_percent = fields.Integer(
        allow_none=True,
        dump_default=None,
        metadata={"description": "The agent's part of commission_percent (at most all of it)."},
    )
    agent_commission = fields.Integer(
        allow_none=True,
        dump_default=None,
        metadata={"description": "What the agent's part comes to, whole rupiah."},
    )
    broadcast_id = fields.String(
        allow_none=True,
        dump_default=None,
        metadata={"description": "The broadcast whose message the buyer answered, if any."},
    )
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
    payment_reference = fields.String(
        allow_none=True,
        dump_default=None,
        metadata={"description": "The buyer's transfer reference, once sent."},
    )
    payment_reference_at = Timestamp(allow_none=True, dump_default=None)
    settled_at = Timestamp(
        allow_none=True,
        dump_default=None,
        metadata={"description": "When it became completed and paid: its earnings are due."},
    )
    refund_status = fields.String(
        allow_none=True,
        dump_default=None,
        metadata={"description": "due: paid and cancelled, the buyer is owed; then settled."},
    )
    refund_reference = fields.String(allow_none=True, dump_default=None)
    refunded_at = Timestamp(allow_none=True, dump_default=None)
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


class ChannelSalesRowSchema(Schema):
    channel = fields.String(validate=validate.OneOf(contract.CHANNELS))
    orders = fields.Integer()
    gross = fields.Integer()


class AgentSalesSchema(Schema):
    """An agent's orders for customers, their gross and the agent's share of it."""

    agent_id = fields.String()
    member_id = fields.String()
    orders = fields.Integer()
    gross = fields.Integer()
    agent_commission = fields.Integer()


class SalesSchema(Schema):
    order_count = fields.Integer()
    gross_total = fields.Integer()
    by_product = fields.List(fields.Nested(ProductSalesSchema))
    by_seller = fields.List(fields.Nested(SellerSalesSchema))
    by_channel = fields.List(
        fields.Nested(ChannelSalesRowSchema),
        metadata={"description": "Every channel, zeros included."},
    )
    by_agent = fields.List(fields.Nested(AgentSalesSchema))


class SalesReportSchema(Schema):
    hub_id = fields.String()
    from_ = Timestamp(data_key="from", allow_none=True)
    to = Timestamp(allow_none=True)
    completed = fields.Nested(SalesSchema)
    confirmed = fields.Nested(SalesSchema)


class ChannelSalesSchema(Schema):
    orders = fields.Integer()
    gross = fields.Integer()


class HubSalesSchema(Schema):
    """One hub's row of the network report: orders completed and their gross."""

    hub_id = fields.String()
    orders = fields.Integer()
    gross = fields.Integer()
    by_channel = fields.Dict(keys=fields.String(), values=fields.Nested(ChannelSalesSchema))
    by_agent = fields.List(fields.Nested(AgentSalesSchema))
