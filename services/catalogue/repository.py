"""Products and stock reservations in ``kompor_catalogue``.

Stock only ever changes through conditional single-document updates, never by an
unconditional write of a value read earlier:

- an order takes stock with ``{"stock": {"$gte": q}}`` → ``$inc -q`` and, in the same
  update, pushes a *hold* ``{"order_id", "quantity"}`` onto the product, under the
  condition that the order holds none there yet; giving it back pulls that hold and
  adds the quantity back in one update. So each product is taken at most once per
  order and given back at most once, whatever is redelivered or resumed after a crash.
- a seller's change compares and sets (``{"stock": <as read>}``), so it carries its
  ``stock_low`` event in the same write and never overwrites a concurrent order's take;
  a change sent with an Idempotency-Key pushes that key onto the product's recent
  ``stock_keys`` in the same update, on the condition that it is not there yet, so a
  retry never applies it twice, even one that overlaps the first try.

Product edits (``save_product``) never write ``stock`` or ``holds``, nor the seller's
standing, which only community's membership events set (``set_seller_standing``).

Every write that moves stock also counts it (``stock_version``), and every write that
records a product event requires the ``version`` it read and raises it by one, so the
events tell in which order the changes happened, whatever order they arrive in (the
gateway keeps a copy of the showroom from them).
"""

import datetime
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal

from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.cursor import Cursor
from pymongo.errors import DuplicateKeyError

from services.catalogue import domain
from services.catalogue.contract import NEWEST, PRICE_ASC, PRICE_DESC, StockLevel
from services.catalogue.exceptions import ProductNotFound, ReservationBusy
from services.common.envelope import PENDING_EVENTS, utcnow
from services.common.errors import Conflict
from services.common.standings import StandingsRepository
from services.common.storage import NOT_STATE, with_events
from services.common.types import Document, Query

HIDDEN = {"outbox": False, "outbox_lease": False, "holds": False}
SELLER_AS_OF = "seller_as_of"
STOCK_KEYS = "stock_keys"
"""The recent stock changes applied to a product, by member and Idempotency-Key."""
NOT_SAVED_BY_EDITS = (
    "stock",
    domain.STOCK_VERSION,
    "holds",
    domain.SELLER_SUSPENDED,
    SELLER_AS_OF,
    STOCK_KEYS,
)
RESERVATION_LEASE = datetime.timedelta(seconds=60)
WRITE_ATTEMPTS = 20
"""Compare-and-set writes retried while others change the same product."""
LEVEL = {"stock": True, domain.STOCK_VERSION: True}
SHOWROOM_VERSION = "version"

SORTS = {
    NEWEST: [("created_at", DESCENDING), ("_id", DESCENDING)],
    PRICE_ASC: [("price", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)],
    PRICE_DESC: [("price", DESCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)],
}


def _showroom_indexes() -> list[IndexModel]:
    """One index per filter the showroom combines, each ending in each sort order."""
    models = []
    for prefix in ([], ["hub_id"], ["category"], ["hub_id", "category"]):
        for sort in ("created_at", "price"):
            keys = [("status", ASCENDING), *[(key, ASCENDING) for key in prefix]]
            keys.append((sort, DESCENDING if sort == "created_at" else ASCENDING))
            models.append(IndexModel(keys))
    return models


class CatalogueRepository(StandingsRepository):
    aggregates = ("products", "reservations")
    indexes = {
        **StandingsRepository.indexes,
        "products": [
            *_showroom_indexes(),
            IndexModel([("seller_id", ASCENDING), ("created_at", DESCENDING)]),
            # one product per code across the network (sparse: products stored before
            # codes existed get theirs when catalogue starts, see ``backfill_codes``)
            IndexModel([("code", ASCENDING)], unique=True, sparse=True),
            IndexModel([("holds.order_id", ASCENDING)], sparse=True),
            IndexModel([("outbox.event_id", ASCENDING)], sparse=True),
        ],
        # reservations are only ever looked up by order id (their _id)
        "reservations": [IndexModel([("outbox.event_id", ASCENDING)], sparse=True)],
        "intakes": [IndexModel([("hub_id", ASCENDING), ("received_at", DESCENDING)])],
    }

    # --- products ---------------------------------------------------------------

    def add_product(self, make: Callable[[str], Document]) -> Document:
        """Insert ``make(code)``, a new product with that code, trying new codes while
        they clash with stored ones (``domain.new_code``); or find the product a retry
        inserted under the same id before."""
        for attempt in range(domain.CODE_TRIES):
            product = make(domain.new_code(attempt))
            try:
                return self.insert("products", product)
            except DuplicateKeyError:
                found = self.find_product(product["_id"])
                if found is not None:
                    return found
        raise Conflict("Could not find a free product code; try again.")

    def find_product(self, product_id: object) -> Document | None:
        if not isinstance(product_id, str):
            return None
        return self.db.products.find_one({"_id": product_id}, projection=HIDDEN)

    def find_product_by_code(self, code: str | None) -> Document | None:
        """The product with ``code`` (as ``domain.normalise_code`` gives it; ``None``
        finds nothing)."""
        if not isinstance(code, str):
            return None
        return self.db.products.find_one({"code": code}, projection=HIDDEN)

    def backfill_codes(self) -> list[str]:
        """Give every product stored before codes existed a code (and its
        ``product_updated``); the ids of those that got one. Safe to run on several
        replicas at once: a product is coded only while it has no code."""
        coded = []
        for product in self.db.products.find({"code": None}, projection=HIDDEN):
            for attempt in range(domain.CODE_TRIES):
                code = domain.new_code(attempt)
                events = domain.coded(dict(product), code).pop(PENDING_EVENTS)
                try:
                    written = self.db.products.update_one(
                        {"_id": product["_id"], "code": None, "version": product.get("version")},
                        with_events({"$set": {"code": code}, "$inc": {"version": 1}}, events),
                    )
                except DuplicateKeyError:
                    continue
                if written.modified_count:
                    coded.append(product["_id"])
                break
        if coded:
            self._bump_showroom()
        return coded

    def get_product(self, product_id: object) -> Document:
        product = self.find_product(product_id)
        if product is None:
            raise ProductNotFound("No such product.", {"product_id": ["Unknown product."]})
        return product

    def save_product(self, product: Document) -> Document:
        draft = {key: value for key, value in product.items() if key not in NOT_SAVED_BY_EDITS}
        self.save("products", draft)
        product.pop(PENDING_EVENTS, None)
        product["version"] = draft["version"]
        self._bump_showroom()
        return product

    def showroom_version(self) -> int:
        """Changes whenever a product's showroom entry may have changed."""
        found = self.db.showroom.find_one({"_id": SHOWROOM_VERSION})
        return found["version"] if found else 0

    def _bump_showroom(self) -> None:
        try:
            self.db.showroom.update_one(
                {"_id": SHOWROOM_VERSION}, {"$inc": {"version": 1}}, upsert=True
            )
        except DuplicateKeyError:  # two first bumps at once: the other one created it
            self.db.showroom.update_one({"_id": SHOWROOM_VERSION}, {"$inc": {"version": 1}})

    def products_by_id(self, product_ids: list[str]) -> list[Document]:
        return list(self.db.products.find({"_id": {"$in": product_ids}}, projection=HIDDEN))

    def approved_products(self) -> Cursor[Document]:
        fields = [*domain.SHELF_FIELDS, "description"]
        on_show = {"status": domain.APPROVED, domain.SELLER_SUSPENDED: {"$ne": True}}
        return self.db.products.find(on_show, projection=fields)

    def set_seller_standing(self, hub_id: str, seller_id: str, suspended: bool, as_of: str) -> None:
        """Flag (or unflag) the seller's products in the hub, each with the event that
        says it left the showroom or came back (``domain.set_seller_suspended``); an
        older decision never overwrites a newer one, whatever order the events arrive in."""
        newer: Query = {"$or": [{SELLER_AS_OF: None}, {SELLER_AS_OF: {"$lte": as_of}}]}
        mine = self.db.products.find(
            {"hub_id": hub_id, "seller_id": seller_id, **newer}, projection={"_id": True}
        )
        update = {
            "$set": {domain.SELLER_SUSPENDED: suspended, SELLER_AS_OF: as_of},
            "$inc": {"version": 1},
        }
        for product_id in [product["_id"] for product in mine]:
            for _ in range(WRITE_ATTEMPTS):
                product = self.db.products.find_one({"_id": product_id, **newer}, HIDDEN)
                if product is None:  # a newer decision came in between
                    break
                read = {"_id": product_id, "version": product.get("version"), **newer}
                events = domain.set_seller_suspended(product, suspended).pop(PENDING_EVENTS, [])
                if self.update("products", read, update, events):
                    break
        self._bump_showroom()

    def seller_standing_of(self, product_id: object) -> bool | None:
        """``seller_standing`` of the product's seller in its hub (``None`` for an
        unknown product: changing its stock finds that out)."""
        product = self.find_product(product_id)
        if product is None:
            return None
        return self.seller_standing(product["hub_id"], product["seller_id"])

    def current_stock(self, product_ids: list[str]) -> dict[str, int]:
        found = self.db.products.find({"_id": {"$in": product_ids}}, projection={"stock": True})
        return {product["_id"]: product["stock"] for product in found}

    def change_stock(
        self, product_id: str, change: Callable[[Document], Document], key: str | None = None
    ) -> Document:
        """Apply ``change(product) → product with its new stock and events`` as a
        compare-and-set on the stock it read; retried while orders move the stock.
        Under a ``key`` (``domain.stock_change_key``) it is applied at most once: a
        product that already has the key is returned as it is."""
        for _ in range(WRITE_ATTEMPTS):
            product = self.get_product(product_id)
            if key is not None and key in (product.get(STOCK_KEYS) or ()):
                return product
            before = {
                "stock": product["stock"],
                domain.STOCK_VERSION: product.get(domain.STOCK_VERSION),
            }
            product = change(product)
            events = product.pop(PENDING_EVENTS, [])
            condition: Query = {"_id": product_id, **before}
            update: Query = {
                "$set": {
                    "stock": product["stock"],
                    domain.STOCK_VERSION: product[domain.STOCK_VERSION],
                    "updated_at": product["updated_at"],
                }
            }
            if key is not None:
                condition[STOCK_KEYS] = {"$ne": key}
                update["$push"] = {
                    STOCK_KEYS: {"$each": [key], "$slice": -domain.RECENT_STOCK_CHANGES}
                }
            saved = self.write("products", condition, update, events, projection=HIDDEN)
            if saved is not None:
                return saved
        raise Conflict("The stock is changing fast right now; try again.")

    def find_products(
        self, query: Mapping[str, Any], page: int, page_size: int, sort: str = NEWEST
    ) -> tuple[list[Document], int]:
        """A page of products matching the showroom filters, and how many match."""
        conditions: Query = {"status": query.get("status") or domain.APPROVED}
        for key in ("hub_id", "seller_id", "category", "code"):
            if query.get(key) is not None:
                conditions[key] = query[key]
        price: Query = {}
        if query.get("min_price") is not None:
            price["$gte"] = query["min_price"]
        if query.get("max_price") is not None:
            price["$lte"] = query["max_price"]
        if price:
            conditions["price"] = price
        if query.get("q"):
            # the user's words are matched literally, never as a pattern or operator
            words = {"$regex": re.escape(query["q"]), "$options": "i"}
            conditions["$or"] = [{"name": words}, {"description": words}]
        total = self.db.products.count_documents(conditions)
        cursor = (
            self.db.products.find(conditions, projection=list(domain.SHELF_FIELDS))
            .sort(SORTS[sort])
            .skip((page - 1) * page_size)
            .limit(page_size)
        )
        return list(cursor), total

    # --- intakes ------------------------------------------------------------------

    def add_intake(self, intake: Document) -> Document:
        """Record goods received, or find the record a retry under the same key made."""
        try:
            self.db.intakes.insert_one(intake)
        except DuplicateKeyError:
            return self.db.intakes.find_one({"_id": intake["_id"]}) or intake
        return intake

    def list_intakes(self, hub_id: str, page: int, page_size: int) -> tuple[list[Document], int]:
        """The hub's intakes, newest first."""
        query = {"hub_id": hub_id}
        cursor = (
            self.db.intakes.find(query)
            .sort([("received_at", DESCENDING), ("_id", DESCENDING)])
            .skip((page - 1) * page_size)
            .limit(page_size)
        )
        return list(cursor), self.db.intakes.count_documents(query)

    # --- stock held for orders -------------------------------------------------

    def take_stock(
        self, order_id: str, line: Mapping[str, Any]
    ) -> (
        tuple[Literal["taken"], Document]
        | tuple[Literal["held"], None]
        | tuple[Literal["short"], int]
        | tuple[Literal["unavailable"], None]
    ):
        """Take ``line["quantity"]`` of a product for an order.

        ``("taken", product)`` with the product as it is now; ``("held", None)`` when
        this order already holds it; ``("unavailable", None)`` when its seller is
        suspended; ``("short", available)`` otherwise.
        """
        product_id, quantity = line["product_id"], line["quantity"]
        product = self.db.products.find_one_and_update(
            {
                "_id": product_id,
                "stock": {"$gte": quantity},
                "holds.order_id": {"$ne": order_id},
                domain.SELLER_SUSPENDED: {"$ne": True},
            },
            {
                "$inc": {"stock": -quantity, domain.STOCK_VERSION: 1},
                "$push": {"holds": {"order_id": order_id, "quantity": quantity}},
            },
            projection={"_id": True, "hub_id": True, "seller_id": True, "name": True, **LEVEL},
            return_document=ReturnDocument.AFTER,
        )
        if product is not None:
            return "taken", product
        current = self.db.products.find_one(
            {"_id": product_id},
            projection={"stock": True, "holds": True, domain.SELLER_SUSPENDED: True},
        )
        if current is None:
            return "short", 0
        if any(hold.get("order_id") == order_id for hold in current.get("holds") or ()):
            return "held", None
        if current.get(domain.SELLER_SUSPENDED):
            return "unavailable", None
        return "short", current["stock"]

    def give_back(self, order_id: str, line: Mapping[str, Any]) -> StockLevel | None:
        """Return what the order holds of a product (nothing if it holds nothing); the
        product's stock level after that (``None`` for an unknown product)."""
        product = self.db.products.find_one_and_update(
            {"_id": line["product_id"], "holds.order_id": order_id},
            {
                "$inc": {"stock": line["quantity"], domain.STOCK_VERSION: 1},
                "$pull": {"holds": {"order_id": order_id}},
            },
            projection=LEVEL,
            return_document=ReturnDocument.AFTER,
        )
        return domain.stock_level(product) if product else self.stock_level(line["product_id"])

    def stock_level(self, product_id: str) -> StockLevel | None:
        product = self.db.products.find_one({"_id": product_id}, projection=LEVEL)
        return domain.stock_level(product) if product else None

    def drop_holds(self, order_id: str, product_ids: Iterable[str]) -> None:
        """Forget the order's holds on ``product_ids`` without returning stock (the
        goods are sold). Naming the products lets the store look them up by id rather
        than read every product for a hold."""
        self.db.products.update_many(
            {"_id": {"$in": list(product_ids)}, "holds.order_id": order_id},
            {"$pull": {"holds": {"order_id": order_id}}},
        )

    # --- reservations ----------------------------------------------------------

    def open_reservation(self, reservation: Document) -> Document | None:
        """Start reserving for an order, under a lease so one worker does it at a time.

        Returns the reservation to work on, or ``None`` if the order has already been
        dealt with (or was cancelled first). ``ReservationBusy`` while another worker
        holds the lease; the event is retried later.
        """
        now = utcnow()
        reservation["lease_until"] = now + RESERVATION_LEASE
        try:
            return self.insert("reservations", reservation)
        except DuplicateKeyError:
            pass
        claimed = self.db.reservations.find_one_and_update(
            {
                "_id": reservation["_id"],
                "state": domain.RESERVING,
                "$or": [{"lease_until": None}, {"lease_until": {"$lt": now}}],
            },
            {"$set": {"lease_until": now + RESERVATION_LEASE}},
            projection={"outbox": False},
            return_document=ReturnDocument.AFTER,
        )
        if claimed is not None:
            return claimed
        existing = self.get_reservation(reservation["_id"])
        if existing is not None and existing["state"] == domain.RESERVING:
            raise ReservationBusy(f"Stock for order {reservation['_id']} is being reserved.")
        return None

    def get_reservation(self, order_id: str) -> Document | None:
        return self.db.reservations.find_one({"_id": order_id}, projection={"outbox": False})

    def add_tombstone(self, reservation: Document) -> bool:
        """``True`` if this cancel came first and left the tombstone."""
        try:
            self.insert("reservations", reservation)
        except DuplicateKeyError:
            return False
        return True

    def move_reservation(self, reservation: Document, from_state: str) -> bool:
        """Write the reservation's new state and events if it is still in
        ``from_state``; ``False`` if another worker moved it first."""
        events = reservation.pop(PENDING_EVENTS, [])
        state = {key: value for key, value in reservation.items() if key not in NOT_STATE}
        state["lease_until"] = None
        return self.update(
            "reservations",
            {"_id": reservation["_id"], "state": from_state},
            {"$set": state, "$inc": {"version": 1}},
            events,
        )
