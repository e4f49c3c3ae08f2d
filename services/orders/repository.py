import datetime
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Concatenate, ParamSpec

from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.errors import DuplicateKeyError

from services.common.commission import DEFAULT_COMMISSION_PERCENT
from services.common.envelope import utcnow
from services.common.errors import Conflict
from services.common.periods import in_period, wib_day
from services.common.standings import AgentsRepository
from services.common.types import Document, Query
from services.orders import domain
from services.orders.contract import ONLINE
from services.orders.exceptions import OrderNotFound

logger = logging.getLogger(__name__)

Change = ParamSpec("Change")

SAVE_ATTEMPTS = 5
PRODUCT_FIELDS = ("code", "hub_id", "seller_id", "name", "price", "unit", "status")
HIDDEN = {"outbox": False, "request_hash": False}


class OrdersRepository(AgentsRepository):
    aggregates = ("orders",)
    indexes = {
        **AgentsRepository.indexes,
        "orders": [
            # one order per buyer and Idempotency-Key: the insert itself decides
            IndexModel([("buyer_id", ASCENDING), ("idempotency_key", ASCENDING)], unique=True),
            IndexModel([("number", ASCENDING)], unique=True),
            # a coordinator's keys for the members they order for (``domain.stored_key``)
            IndexModel([("acted_by", ASCENDING), ("idempotency_key", ASCENDING)]),
            IndexModel([("buyer_id", ASCENDING), ("created_at", DESCENDING)]),
            IndexModel([("seller_ids", ASCENDING), ("created_at", DESCENDING)]),
            IndexModel([("hub_id", ASCENDING), ("created_at", DESCENDING)]),
            IndexModel([("hub_id", ASCENDING), ("status", ASCENDING), ("created_at", ASCENDING)]),
            IndexModel([("status", ASCENDING), ("retry_at", ASCENDING)]),
            # completed orders not yet counted in their day's tally
            IndexModel([("tally_due", ASCENDING)], sparse=True),
            IndexModel([("outbox.event_id", ASCENDING)], sparse=True),
        ],
        "products": [IndexModel([("hub_id", ASCENDING)])],
        "hubs": [],
        "counters": [],
        # the network report: each hub's sales of a month, per WIB day and channel
        "tallies": [IndexModel([("month", ASCENDING)])],
    }

    # --- the product projection ---

    def save_product(self, data: Mapping[str, Any], as_of: str) -> None:
        """Keep the newest view of a product; an older event never overwrites a newer."""
        fields = {key: data.get(key) for key in PRODUCT_FIELDS}
        try:
            self.db.products.update_one(
                {"_id": data["product_id"], "$or": [{"as_of": None}, {"as_of": {"$lte": as_of}}]},
                {"$set": {**fields, "as_of": as_of}},
                upsert=True,
            )
        except DuplicateKeyError:  # a newer event already wrote this product
            pass

    def products(self, product_ids: Iterable[str]) -> dict[str, Document]:
        """``{product_id: product}`` of those known (approved or not)."""
        return {
            product["_id"]: product
            for product in self.db.products.find({"_id": {"$in": list(product_ids)}})
        }

    # --- the hubs' commission (community events) ---

    def save_hub(self, data: Mapping[str, Any], as_of: str) -> None:
        """Keep the hub's newest commission; an older event never overwrites a newer."""
        try:
            self.db.hubs.update_one(
                {"_id": data["hub_id"], "$or": [{"as_of": None}, {"as_of": {"$lte": as_of}}]},
                {"$set": {"commission_percent": data["commission_percent"], "as_of": as_of}},
                upsert=True,
            )
        except DuplicateKeyError:  # a newer event already wrote this hub
            pass

    def commission_of(self, hub_id: str) -> int:
        """The hub's commission percent now (the default for a hub not heard of)."""
        hub = self.db.hubs.find_one({"_id": hub_id})
        return int(hub["commission_percent"]) if hub else DEFAULT_COMMISSION_PERCENT

    # --- the standing of the hubs' members (community events) ---

    def member_standing(self, hub_id: str, member_id: str) -> bool | None:
        """``True`` while the member has an approved membership of the hub and none
        suspended, ``False`` while one is suspended, ``None`` if never approved."""
        found = list(self.db.standings.find({"hub_id": hub_id, "member_id": member_id}))
        if not found:
            return None
        return not any(standing["suspended"] for standing in found)

    def suspended_in(self, hub_id: str, member_ids: Iterable[str]) -> set[tuple[str, str]]:
        """``(member_id, role)`` of the members' suspended memberships of the hub."""
        found = self.db.standings.find(
            {"hub_id": hub_id, "member_id": {"$in": list(member_ids)}, "suspended": True}
        )
        return {(standing["member_id"], standing["role"]) for standing in found}

    # --- orders ---

    def next_number(self) -> str:
        for _ in range(SAVE_ATTEMPTS):
            try:
                counter = self.db.counters.find_one_and_update(
                    {"_id": "order_number"},
                    {"$inc": {"value": 1}},
                    upsert=True,
                    return_document=ReturnDocument.AFTER,
                )
                return domain.order_number(counter["value"])
            except DuplicateKeyError:  # two first orders at once; the loser increments
                continue
        raise Conflict("Could not number the order; retry.")

    def find_by_key(self, buyer_id: str, key: str, acted_by: str | None = None) -> Document | None:
        """The order placed under ``key`` (``domain.stored_key``): by the buyer, or for
        any member by the coordinator ``acted_by``."""
        query = {"buyer_id": buyer_id} if acted_by is None else {"acted_by": acted_by}
        return self.db.orders.find_one(
            {**query, "idempotency_key": key}, projection={"outbox": False}
        )

    def add_order(self, order: Document) -> Document:
        """Insert a new order, or return the one this buyer already placed with the
        same Idempotency-Key (the unique index decides between concurrent requests)."""
        try:
            return self.insert("orders", order)
        except DuplicateKeyError:
            existing = self.find_by_key(order["buyer_id"], order["idempotency_key"])
            if existing is None:
                raise
            return existing

    def find_by_number(self, number: str | None) -> Document | None:
        """The order numbered ``number`` (as ``domain.normalise_number`` gives it)."""
        if not isinstance(number, str):
            return None
        return self.db.orders.find_one({"number": number}, projection={"outbox": False})

    def get_order(self, order_id: object) -> Document:
        order = None
        if isinstance(order_id, str):  # never a query operator from a caller
            order = self.db.orders.find_one({"_id": order_id}, projection={"outbox": False})
        if order is None:
            raise OrderNotFound(
                f"No order {order_id}.", {"order_id": ["Unknown order, or not one of yours."]}
            )
        return order

    def apply(
        self,
        order_id: object,
        change: Callable[Concatenate[Document, Change], object],
        *args: Change.args,
        **kwargs: Change.kwargs,
    ) -> Document:
        """Read the order, ``change(order, …)`` it and save it if it changed, retrying
        from a fresh read when someone else saved it in between."""
        for attempt in range(SAVE_ATTEMPTS):
            order = self.get_order(order_id)
            if not change(order, *args, **kwargs):
                return order
            try:
                saved = self.save("orders", order)
            except Conflict:
                logger.info("order %s changed meanwhile (attempt %s); retrying", order_id, attempt)
                continue
            if saved.get("tally_due"):
                self.tally(saved)
            return saved
        raise Conflict("This order is changing right now; retry.")

    def claim_unanswered(self, retry_seconds: float) -> Document | None:
        """Take one pending order whose announcement went unanswered, leasing it until
        its next retry time so that two replicas never announce it together."""
        now = utcnow()
        return self.db.orders.find_one_and_update(
            {"status": domain.PENDING, "retry_at": {"$lte": now}},
            {"$set": {"retry_at": now + domain.retry_delay(retry_seconds, 1)}},
            projection={"_id": True, "channel": True},
            sort=[("retry_at", ASCENDING)],
        )

    def list_orders(
        self, scope: Mapping[str, Any], status: str | None, page: int, page_size: int
    ) -> tuple[list[Document], int]:
        query: Query = {
            key: {"$in": value} if isinstance(value, list) else value
            for key, value in scope.items()
        }
        if status is not None:
            query["status"] = status
        total = self.db.orders.count_documents(query)
        cursor = (
            self.db.orders.find(query, projection=HIDDEN)
            .sort([("created_at", DESCENDING), ("_id", DESCENDING)])
            .skip((page - 1) * page_size)
            .limit(page_size)
        )
        return list(cursor), total

    # --- reports ---

    def sales_report(
        self, hub_id: str, start: datetime.datetime | None, end: datetime.datetime | None
    ) -> dict[str, Document]:
        """Totals computed by the database: ``{"completed": …, "confirmed": …}`` where
        confirmed counts every order confirmed or later (completed included)."""
        match = {"hub_id": hub_id, "status": {"$in": list(domain.CONFIRMED_OR_LATER)}}
        period = in_period(start, end)
        if period:
            match["created_at"] = period
        only_completed = [{"$match": {"status": domain.COMPLETED}}]
        facets: dict[str, list[Query]] = {}
        for name, head in (("completed", only_completed), ("confirmed", [])):
            facets[f"{name}_totals"] = [*head, *_TOTALS]
            facets[f"{name}_by_product"] = [*head, *_BY_PRODUCT]
            facets[f"{name}_by_seller"] = [*head, *_BY_SELLER]
            facets[f"{name}_by_channel"] = [*head, *_BY_CHANNEL]
            facets[f"{name}_by_agent"] = [*head, *_BY_AGENT]
        (result,) = self.db.orders.aggregate([{"$match": match}, {"$facet": facets}])
        return {name: _sales(result, name) for name in ("completed", "confirmed")}

    def tally(self, order: Document) -> None:
        """Count a completed order in its hub's tally of the month, on its day (WIB)
        and channel (and its agent's, if an agent placed it), exactly once: the tally
        lists the orders it counted and takes one only if it is not listed, in the same
        write as the counts; the order's
        ``tally_due`` goes only after that, so a crash in between leaves it for
        ``tally_overdue`` to count (a no-op if it was counted), and two workers at once
        count it once."""
        day = wib_day(order["completed_at"])
        tally_id = f"{order['hub_id']}:{day[:7]}"
        channel = order.get("channel") or ONLINE  # stored before channels existed
        counts = {f"days.{day}.{channel}.orders": 1, f"days.{day}.{channel}.gross": order["total"]}
        names = {"hub_id": order["hub_id"], "month": day[:7]}
        if order.get("agent_id") is not None:
            agent = f"agents.{day}.{order['agent_id']}"
            names[f"{agent}.member_id"] = order["buyer_id"]
            counts.update(
                {
                    f"{agent}.orders": 1,
                    f"{agent}.gross": order["total"],
                    f"{agent}.agent_commission": order["agent_commission"],
                }
            )
        for _ in range(SAVE_ATTEMPTS):
            try:
                self.db.tallies.update_one(
                    {"_id": tally_id, "counted": {"$ne": order["_id"]}},
                    {"$set": names, "$inc": counts, "$push": {"counted": order["_id"]}},
                    upsert=True,
                )
                break
            except DuplicateKeyError:  # counted already, or the month's first two at once
                counted = {"_id": tally_id, "counted": order["_id"]}
                if self.db.tallies.find_one(counted, projection={"_id": True}) is not None:
                    break
        else:
            raise Conflict("This month's tally is changing right now; retry.")
        self.db.orders.update_one({"_id": order["_id"]}, {"$unset": {"tally_due": True}})

    def tally_overdue(self, limit: int) -> int:
        """Count up to ``limit`` completed orders a crash left uncounted; how many."""
        due = list(self.db.orders.find({"tally_due": True}).limit(limit))
        for order in due:
            self.tally(order)
        return len(due)

    def network_sales(self, first_day: str | None, end_day: str | None) -> list[Document]:
        """Orders completed in the WIB days ``[first_day, end_day)`` and their gross per
        hub and channel, from the tallies of those months (one document per hub and
        month, whatever the number of orders; ``domain.network_sales`` adds up the
        days)."""
        months: Query = {}
        if first_day is not None:
            months["$gte"] = first_day[:7]
        if end_day is not None:
            months["$lte"] = end_day[:7]
        found = self.db.tallies.find(
            {"month": months} if months else {}, projection={"counted": False}
        )
        return domain.network_sales(found, first_day, end_day)


_TOTALS: list[Query] = [
    {
        "$group": {
            "_id": None,
            "order_count": {"$sum": 1},
            "gross_total": {"$sum": "$total"},
        }
    }
]


def _sales_by(key: str, *named: str) -> list[Query]:
    """Sales per ``items.<key>`` (product or seller), largest total first; ``named``
    item fields (a product's name) are taken from its first order line."""
    return [
        {"$unwind": "$items"},
        {
            "$group": {
                "_id": f"$items.{key}",
                **{field: {"$first": f"$items.{field}"} for field in named},
                "quantity": {"$sum": "$items.quantity"},
                "total": {"$sum": "$items.line_total"},
                "orders": {"$addToSet": "$_id"},
            }
        },
        {
            "$project": {
                "_id": False,
                key: "$_id",
                **dict.fromkeys(named, True),
                "quantity": True,
                "total": True,
                "order_count": {"$size": "$orders"},
            }
        },
        {"$sort": {"total": DESCENDING, key: ASCENDING}},
    ]


_BY_PRODUCT = _sales_by("product_id", "name")
_BY_SELLER = _sales_by("seller_id")
_BY_CHANNEL: list[Query] = [
    {"$group": {"_id": "$channel", "orders": {"$sum": 1}, "gross": {"$sum": "$total"}}},
    {"$project": {"_id": False, "channel": "$_id", "orders": True, "gross": True}},
]
_BY_AGENT: list[Query] = [
    {"$match": {"agent_id": {"$ne": None}}},
    {
        "$group": {
            "_id": "$agent_id",
            "member_id": {"$first": "$buyer_id"},  # an agent's orders are theirs
            "orders": {"$sum": 1},
            "gross": {"$sum": "$total"},
            "agent_commission": {"$sum": "$agent_commission"},
        }
    },
    {
        "$project": {
            "_id": False,
            "agent_id": "$_id",
            "member_id": True,
            **dict.fromkeys(domain.AGENT_COUNTS, True),
        }
    },
]


def _sales(result: Document, name: str) -> Document:
    totals = (result[f"{name}_totals"] or [{}])[0]
    return {
        "order_count": totals.get("order_count", 0),
        "gross_total": totals.get("gross_total", 0),
        "by_product": result[f"{name}_by_product"],
        "by_seller": result[f"{name}_by_seller"],
        "by_channel": domain.sales_by_channel(result[f"{name}_by_channel"]),
        "by_agent": sorted(result[f"{name}_by_agent"], key=lambda sold: sold["agent_id"]),
    }
