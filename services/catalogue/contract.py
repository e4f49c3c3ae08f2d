"""What catalogue promises to the outside: the values its requests and responses use,
and the events it publishes with the fields of each one's ``data``.

The gateway and the other services read catalogue through this module and
``schemas.py`` only, so it imports nothing of catalogue's internals; docs/events.md
describes the same events for people, and a test keeps the two in step.
"""

from typing import NotRequired, TypedDict

CATEGORIES = (
    "food",
    "beverage",
    "craft",
    "fashion",
    "agriculture",
    "beauty",
    "household",
    "other",
)
PENDING_REVIEW, APPROVED, REJECTED = "pending_review", "approved", "rejected"
PRODUCT_STATUSES = (PENDING_REVIEW, APPROVED, REJECTED)
MATERIAL_FIELDS = ("name", "description", "category", "images")
"""Fields whose change sends a product back to review."""
EDITABLE_FIELDS = (*MATERIAL_FIELDS, "price", "unit")

MAX_PRICE = 1_000_000_000  # rupiah; anything above is a typo
MAX_STOCK = 1_000_000

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWYZ"
"""What a product's ``code`` is written with: no look-alikes (0/O, 1/I/L) and no X, so
that ``x2`` typed after a code is never part of it."""
CODE_LETTERS = "".join(character for character in CODE_ALPHABET if character.isalpha())
"""A code's first and last characters: digits typed after a code are a quantity."""
CODE_LENGTH = 4
MAX_CODE_LENGTH = 6
"""Codes are 4 characters, 5 or 6 only when the shorter ones are crowded."""

NEWEST, PRICE_ASC, PRICE_DESC = "newest", "price_asc", "price_desc"
SORTS = (NEWEST, PRICE_ASC, PRICE_DESC)
"""The showroom's orders; ties in price stay newest first."""


# --- events (``catalogue.events``) -------------------------------------------------

PRODUCT_SUBMITTED = "product_submitted"
PRODUCT_APPROVED = "product_approved"
PRODUCT_REJECTED = "product_rejected"
PRODUCT_UPDATED = "product_updated"
STOCK_RESERVED = "stock_reserved"
STOCK_RESERVATION_FAILED = "stock_reservation_failed"
STOCK_RELEASED = "stock_released"
STOCK_LOW = "stock_low"
STOCK_CHANGED = "stock_changed"


class ProductSnapshot(TypedDict):
    """What other services learn of a product."""

    product_id: str
    code: str
    hub_id: str
    seller_id: str
    name: str
    category: str
    price: int
    unit: str
    status: str
    acted_by: str | None  # the coordinator who submitted it for its seller; None: the seller


class ProductSubmitted(ProductSnapshot):
    pass


class ProductApproved(ProductSnapshot):
    pass


class ProductRejected(ProductSnapshot):
    reason: str


class ProductUpdated(ProductSnapshot):
    changed: list[str]
    old_price: NotRequired[int]  # both only when the price changed
    new_price: NotRequired[int]


class ReservedLine(TypedDict):
    product_id: str
    quantity: int


class Shortage(TypedDict):
    product_id: str
    requested: int
    available: int


class StockReserved(TypedDict):
    order_id: str
    items: list[ReservedLine]


class StockReservationFailed(TypedDict):
    order_id: str
    reason: str
    shortages: list[Shortage]


class CounterDecision(TypedDict):
    """The answer to a counter sale (``sell_at_counter``): every line taken, or none."""

    order_id: str
    sold: bool
    reason: str | None
    shortages: list[Shortage]


class StockReleased(TypedDict):
    order_id: str
    items: list[ReservedLine]


class StockLow(TypedDict):
    product_id: str
    hub_id: str
    seller_id: str
    name: str
    stock: int
    threshold: int


class StockChanged(TypedDict):
    """Its seller, or the hub's coordinator for them (``acted_by``), changed the stock."""

    product_id: str
    code: str
    hub_id: str
    seller_id: str
    name: str
    stock: int
    delta: int
    acted_by: str | None


EVENTS: dict[str, type] = {
    PRODUCT_SUBMITTED: ProductSubmitted,
    PRODUCT_APPROVED: ProductApproved,
    PRODUCT_REJECTED: ProductRejected,
    PRODUCT_UPDATED: ProductUpdated,
    STOCK_RESERVED: StockReserved,
    STOCK_RESERVATION_FAILED: StockReservationFailed,
    STOCK_RELEASED: StockReleased,
    STOCK_LOW: StockLow,
    STOCK_CHANGED: StockChanged,
}
"""Every event catalogue publishes, with the shape of its ``data``."""
