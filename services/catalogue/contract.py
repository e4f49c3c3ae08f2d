"""What catalogue promises to the outside: the values its requests and responses use,
and the events it publishes with the fields of each one's ``data``.

The gateway and the other services read catalogue through this module and
``schemas.py`` only, so it imports nothing of catalogue's internals; docs/events.md
describes the same events for people, and a test keeps the two in step.
"""

from collections.abc import Callable, Iterable, Mapping
from typing import Any, NotRequired, TypedDict, TypeVar

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


# --- what the showroom's filters and orders mean --------------------------------
#
# Two copies of the showroom answer the same queries: catalogue's shelf and the
# gateway's read model. Both hold *items*, mappings with ``_id``, ``seller_id``,
# ``category``, ``code``, ``price``, ``created_at`` and ``text`` (``showroom_text``), and
# both filter and order them by these definitions, so that they answer alike.

SHOWROOM_ORDERS: dict[str, Callable[[Mapping[str, Any]], tuple[Any, ...]]] = {
    NEWEST: lambda item: (item["created_at"], item["_id"]),
    PRICE_ASC: lambda item: (-item["price"], item["created_at"], item["_id"]),
    PRICE_DESC: lambda item: (item["price"], item["created_at"], item["_id"]),
}
"""Each sort lists items by its key, largest first: newest first, and equal prices
newest first."""


def showroom_text(name: str | None, description: str | None) -> str:
    """What the showroom's ``q`` is looked for in: name and description, case folded."""
    return f"{name or ''}\n{description or ''}".casefold()


ShowroomItem = TypeVar("ShowroomItem", bound=Mapping[str, Any])


def showroom_filter(
    query: Mapping[str, Any],
) -> Callable[[Iterable[ShowroomItem]], list[ShowroomItem]] | None:
    """The items, of those given (in their order), that match the showroom filters in
    ``query`` other than ``hub_id``; ``None`` when there are none. Each filter is one
    tight pass over what the filters before it kept, the narrowest first: ten thousand
    items take about a millisecond."""
    equal = [(key, query[key]) for key in ("code", "seller_id", "category") if query.get(key)]
    low, high = query.get("min_price"), query.get("max_price")
    # a plain substring test: the user's text is never a pattern or an operator
    words = query["q"].casefold() if query.get("q") else None
    if not equal and low is None and high is None and words is None:
        return None

    def select(items: Iterable[ShowroomItem]) -> list[ShowroomItem]:
        kept = list(items)
        for key, value in equal:
            kept = [item for item in kept if item[key] == value]
        if low is not None:
            kept = [item for item in kept if item["price"] >= low]
        if high is not None:
            kept = [item for item in kept if item["price"] <= high]
        if words is not None:
            kept = [item for item in kept if words in item["text"]]
        return kept

    return select


# --- events (``catalogue.events``) -------------------------------------------------

PRODUCT_SUBMITTED = "product_submitted"
PRODUCT_APPROVED = "product_approved"
PRODUCT_REJECTED = "product_rejected"
PRODUCT_UPDATED = "product_updated"
STOCK_RESERVED = "stock_reserved"
STOCK_SOLD = "stock_sold"
STOCK_RESERVATION_FAILED = "stock_reservation_failed"
STOCK_RELEASED = "stock_released"
STOCK_LOW = "stock_low"
STOCK_CHANGED = "stock_changed"


class ProductSnapshot(TypedDict):
    """What other services learn of a product: enough for a copy of the showroom."""

    product_id: str
    version: int  # the product's version after this change: a newer event has a larger one
    code: str
    hub_id: str
    seller_id: str
    name: str
    description: str
    category: str
    price: int
    unit: str
    images: list[str]
    status: str
    on_show: bool  # in the showroom: approved, and its seller not suspended
    stock: int  # as read with the change; stock_version orders it among stock changes
    stock_version: int
    acted_by: str | None  # the coordinator who submitted it for its seller; None: the seller
    reviewed_at: str | None
    created_at: str
    updated_at: str


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


class StockLevel(TypedDict):
    """A product's stock after a change, and the ``stock_version`` that change gave it."""

    product_id: str
    stock: int
    stock_version: int


class StockReserved(TypedDict):
    order_id: str
    items: list[ReservedLine]
    levels: list[StockLevel]  # each product's stock once the order's lines were taken


class StockSold(StockReserved):
    """A counter sale's lines, taken and sold at once (no saga waits for it)."""


class StockReservationFailed(TypedDict):
    order_id: str
    reason: str
    shortages: list[Shortage]
    levels: list[StockLevel]  # the stock of the lines taken and given back meanwhile


class CounterDecision(TypedDict):
    """The answer to a counter sale (``sell_at_counter``): every line taken, or none."""

    order_id: str
    sold: bool
    reason: str | None
    shortages: list[Shortage]


class StockReleased(TypedDict):
    order_id: str
    items: list[ReservedLine]
    levels: list[StockLevel]  # each product's stock once the order's lines came back


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
    stock_version: int
    delta: int
    acted_by: str | None
    updated_at: str


EVENTS: dict[str, type] = {
    PRODUCT_SUBMITTED: ProductSubmitted,
    PRODUCT_APPROVED: ProductApproved,
    PRODUCT_REJECTED: ProductRejected,
    PRODUCT_UPDATED: ProductUpdated,
    STOCK_RESERVED: StockReserved,
    STOCK_SOLD: StockSold,
    STOCK_RESERVATION_FAILED: StockReservationFailed,
    STOCK_RELEASED: StockReleased,
    STOCK_LOW: StockLow,
    STOCK_CHANGED: StockChanged,
}
"""Every event catalogue publishes, with the shape of its ``data``."""
