"""What orders promises to the outside: the values its requests and responses use,
and the events it publishes with the fields of each one's ``data``.

The gateway and the other services read orders through this module and
``schemas.py`` only, so it imports nothing of orders' internals; docs/events.md
describes the same events for people, and a test keeps the two in step.
"""

from typing import NotRequired, TypedDict

from services.common.actor import ROLES

PENDING = "pending"
CONFIRMED = "confirmed"
REJECTED = "rejected"
READY_FOR_PICKUP = "ready_for_pickup"
SHIPPED = "shipped"
COMPLETED = "completed"
CANCELLED = "cancelled"
STATUSES = (PENDING, CONFIRMED, REJECTED, READY_FOR_PICKUP, SHIPPED, COMPLETED, CANCELLED)
FULFILMENT_STATUSES = (READY_FOR_PICKUP, SHIPPED, COMPLETED)
"""The statuses a seller or coordinator moves an order to."""
FULFILMENT_STEP = {CONFIRMED: 0, READY_FOR_PICKUP: 1, SHIPPED: 1, COMPLETED: 2}
"""How far along its fulfilment an order, or one seller's lines of it, is."""

UNPAID, PAID = "unpaid", "paid"
PICKUP, DELIVERY = "pickup", "delivery"
FULFILMENT_METHODS = (PICKUP, DELIVERY)
COD, BANK_TRANSFER = "cod", "bank_transfer"
PAYMENT_METHODS = (COD, BANK_TRANSFER)
CASH = "cash"
"""How a counter sale is paid: at once, at the showroom."""

ONLINE, SMS, WHATSAPP, COUNTER, AGENT = "online", "sms", "whatsapp", "counter", "agent"
CHANNELS = (ONLINE, SMS, WHATSAPP, COUNTER, AGENT)
"""Where an order came from: the HTTP API, a text message, the showroom's counter, an
agent ordering for a customer (whichever way the agent sent it)."""
PLACEMENT_CHANNELS = (ONLINE, SMS, WHATSAPP)
"""The channels ``place_order`` takes (a counter sale has its own command; an order
with a ``customer`` is an agent's whichever of these it came by)."""

REFUND_DUE, REFUND_DONE = "due", "settled"
"""``refund_status`` of a paid order that was cancelled: due, until the coordinator
records that the buyer got the money back."""

# ``as`` of an order list: the part the caller plays in the orders listed
VIEWS = ROLES
DEFAULT_VIEW = "buyer"


def line_status(order_status: str, own_status: str | None) -> str:
    """The status of an order line: the order's, unless the line's seller moved their
    lines further along while the order waits for the other sellers."""
    if (
        own_status in FULFILMENT_STEP
        and order_status in FULFILMENT_STEP
        and FULFILMENT_STEP[own_status] > FULFILMENT_STEP[order_status]
    ):
        return own_status
    return order_status


# --- events (``orders.events``) ----------------------------------------------------

ORDER_PLACED = "order_placed"
ORDER_CONFIRMED = "order_confirmed"
ORDER_REJECTED = "order_rejected"
ORDER_CANCELLED = "order_cancelled"
ORDER_STATUS_CHANGED = "order_status_changed"
ORDER_PAID = "order_paid"
ORDER_SETTLED = "order_settled"
PAYMENT_PROOF_SENT = "payment_proof_sent"
REFUND_SETTLED = "refund_settled"


class OrderLine(TypedDict):
    product_id: str
    code: str | None  # None only for a product orders heard of before it had a code
    seller_id: str
    name: str
    quantity: int
    unit_price: int
    line_total: int


class Fulfilment(TypedDict):
    method: str
    address: str | None


class Customer(TypedDict):
    """Who an agent ordered for (or a counter sale's buyer, as the coordinator noted
    them): not a member, reached by SMS at ``phone``."""

    name: str | None
    phone: str | None


class Shortage(TypedDict):
    product_id: str
    requested: int
    available: int


class OrderSummary(TypedDict):
    """What every order event carries."""

    order_id: str
    number: str
    hub_id: str
    buyer_id: str | None  # None for a counter sale
    seller_ids: list[str]
    items: list[OrderLine]
    total: int
    fulfilment: Fulfilment
    payment_method: str
    status: str
    payment_status: str
    acted_by: str | None  # the coordinator who placed it for the buyer; None: the buyer
    channel: str
    commission_percent: int  # the hub's when the order was placed; never changes
    payment_reference: str | None  # the buyer's transfer reference, once sent
    refund_status: str | None  # "due" once a paid order is cancelled, then "settled"
    agent_id: str | None  # the agent who ordered it for a customer (channel "agent")
    agent_commission_percent: int | None  # the agent's part of commission_percent
    customer: Customer | None
    broadcast_id: str | None  # the broadcast the buyer's text message answered


class OrderPlaced(OrderSummary):
    pass


class OrderConfirmed(OrderSummary):
    pass


class OrderRejected(OrderSummary):
    reason: str
    shortages: list[Shortage]


class OrderCancelled(OrderSummary):
    cancelled_by: str | None
    stock_was_reserved: bool
    release_only: NotRequired[bool]  # only on a repeat asking catalogue to release stock


class OrderStatusChanged(OrderSummary):
    from_status: str
    to_status: str
    changed_by: str


class OrderPaid(OrderSummary):
    paid_by: str


class OrderSettled(OrderSummary):
    """The order is completed and paid: what each seller and the hub earn is due."""

    settled_at: str


class PaymentProofSent(OrderSummary):
    pass


class RefundSettled(OrderSummary):
    settled_by: str
    reference: str | None


EVENTS: dict[str, type] = {
    ORDER_PLACED: OrderPlaced,
    ORDER_CONFIRMED: OrderConfirmed,
    ORDER_REJECTED: OrderRejected,
    ORDER_CANCELLED: OrderCancelled,
    ORDER_STATUS_CHANGED: OrderStatusChanged,
    ORDER_PAID: OrderPaid,
    ORDER_SETTLED: OrderSettled,
    PAYMENT_PROOF_SENT: PaymentProofSent,
    REFUND_SETTLED: RefundSettled,
}
"""Every event orders publishes, with the shape of its ``data``."""
