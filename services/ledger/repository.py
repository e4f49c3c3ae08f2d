import datetime
from collections.abc import Mapping
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.errors import DuplicateKeyError

from services.common.periods import in_period
from services.common.standings import save_standing, seller_standing
from services.common.storage import Repository
from services.common.types import Document, Query
from services.ledger import domain
from services.ledger.exceptions import LedgerBusy

NO_OUTBOX = {"outbox": False, "outbox_lease": False}
APPEND_ATTEMPTS = 30


class LedgerRepository(Repository):
    """Entries (append-only, per account; payouts and adjustments carry their events),
    the hubs' totals per day (WIB) for the network report, and which members are
    sellers of which hub (community's membership decisions)."""

    aggregates = ("entries",)
    indexes = {
        "entries": [
            # the next entry of an account is taken once: the loser of a race reads again
            IndexModel([("account", ASCENDING), ("seq", ASCENDING)], unique=True),
            IndexModel([("account", ASCENDING), ("at", ASCENDING)]),
            IndexModel([("seller_id", ASCENDING), ("hub_id", ASCENDING)]),
        ],
        "days": [IndexModel([("day", ASCENDING), ("hub_id", ASCENDING)])],
        "standings": [IndexModel([("hub_id", ASCENDING), ("member_id", ASCENDING)])],
    }

    # --- entries ---

    def append(self, entry_draft: Document) -> Document:
        """Write ``entry_draft`` as the next entry of its account, once per cause: the
        entry already written for its cause is returned as it is. Two writers of one
        account collide on (account, seq) and the loser tries again on the new balance."""
        for _ in range(APPEND_ATTEMPTS):
            written = self.entry(entry_draft["_id"])
            if written is not None:
                return written
            entry = domain.appended(entry_draft, self.last_entry(entry_draft["account"]))
            try:
                return self.insert("entries", entry)
            except DuplicateKeyError:  # that seq was taken (or this cause written) meanwhile
                continue
        raise LedgerBusy(
            "This balance is changing right now; retry.",
            {"seller_id": ["Many changes at once to this balance; send the request again."]},
        )

    def entry(self, entry_id: str) -> Document | None:
        return self.db.entries.find_one({"_id": entry_id}, projection=NO_OUTBOX)

    def last_entry(self, account: str) -> Document | None:
        return self.db.entries.find_one(
            {"account": account}, sort=[("seq", DESCENDING)], projection=NO_OUTBOX
        )

    def stretch(
        self, account: str, start: datetime.datetime | None, end: datetime.datetime | None
    ) -> tuple[int, list[Document]]:
        """The account's balance just before ``start`` (0 before its first entry), and
        its entries of ``[start, end)`` in order."""
        query: Query = {"account": account}
        period = in_period(start, end)
        if period:
            query["at"] = period
        entries = list(self.db.entries.find(query, projection=NO_OUTBOX).sort("seq", ASCENDING))
        if start is None:
            return 0, entries
        before = self.db.entries.find_one(
            {"account": account, "at": {"$lt": start}},
            sort=[("seq", DESCENDING)],
            projection={"balance_after": True},
        )
        return (0 if before is None else before["balance_after"]), entries

    def knows_seller(self, hub_id: str, seller_id: str) -> bool:
        """Whether the hub ever had ``seller_id`` as a seller (approved, or with entries)."""
        if self.seller_standing(hub_id, seller_id) is not None:
            return True
        account = domain.account_of(hub_id, seller_id)
        return self.db.entries.find_one({"account": account}, projection={"_id": True}) is not None

    def balances_of(self, seller_id: str, page: int, page_size: int) -> tuple[list[Document], int]:
        """A page of the seller's last entry in each hub (by hub id), and how many hubs."""
        hubs = sorted(
            {e["hub_id"] for e in self.db.entries.find({"seller_id": seller_id}, ["hub_id"])}
        )
        shown = hubs[(page - 1) * page_size : page * page_size]
        last = (self.last_entry(domain.account_of(hub_id, seller_id)) for hub_id in shown)
        return [entry for entry in last if entry is not None], len(hubs)

    # --- the hubs' days, for the network report ---

    def count_settled(self, tally: domain.Tally) -> None:
        """Add a settled order to its hub's day, once: the day lists the orders it
        counted, and one already listed is not counted again."""
        try:
            self.db.days.update_one(
                {"_id": f"{tally.hub_id}:{tally.day}", "order_ids": {"$ne": tally.order_id}},
                {
                    "$inc": {"commission": tally.commission, "settled_orders": 1},
                    "$push": {"order_ids": tally.order_id},
                    "$setOnInsert": {"hub_id": tally.hub_id, "day": tally.day},
                },
                upsert=True,
            )
        except DuplicateKeyError:  # the day exists and has counted this order
            pass

    def commission_by_hub(self, first_day: str | None, end_day: str | None) -> list[Document]:
        """``[{hub_id, settled_orders, commission}]`` of the days ``[first_day,
        end_day)``, summed by the database over one document per hub and day."""
        days: Query = {}
        if first_day is not None:
            days["$gte"] = first_day
        if end_day is not None:
            days["$lt"] = end_day
        pipeline: list[Query] = [
            {"$match": {"day": days} if days else {}},
            {
                "$group": {
                    "_id": "$hub_id",
                    "settled_orders": {"$sum": "$settled_orders"},
                    "commission": {"$sum": "$commission"},
                }
            },
            {"$sort": {"_id": ASCENDING}},
        ]
        return [
            {"hub_id": row["_id"], **{k: row[k] for k in ("settled_orders", "commission")}}
            for row in self.db.days.aggregate(pipeline)
        ]

    # --- sellers of each hub (community events) ---

    def save_standing(self, data: Mapping[str, Any], suspended: bool, as_of: str) -> None:
        save_standing(self.db.standings, data, suspended, as_of)

    def seller_standing(self, hub_id: str, member_id: object) -> bool | None:
        """``True`` approved, ``False`` suspended, ``None`` never a seller of the hub."""
        return seller_standing(self.db.standings, hub_id, member_id)
