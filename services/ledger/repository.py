import datetime

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.errors import DuplicateKeyError

from services.common.periods import in_period, wib_day
from services.common.standings import AgentsRepository
from services.common.types import Document, Query
from services.ledger import domain
from services.ledger.exceptions import LedgerBusy

NO_OUTBOX = {"outbox": False, "outbox_lease": False}
APPEND_ATTEMPTS = 30


class LedgerRepository(AgentsRepository):
    """Entries (append-only, per account; payouts and adjustments carry their events),
    each account's head (where its last entry is, so a write never reads its history),
    each hub's commission per day (WIB) for the network report, which members are
    sellers of which hub (community's membership decisions) and who is an agent of
    which hub (community's appointments)."""

    aggregates = ("entries",)
    indexes = {
        **AgentsRepository.indexes,
        "entries": [
            # the next entry of an account is taken once: the loser of a race reads again
            IndexModel([("account", ASCENDING), ("seq", ASCENDING)], unique=True),
            IndexModel([("account", ASCENDING), ("at", ASCENDING)]),
        ],
        "accounts": [
            IndexModel([("seller_id", ASCENDING), ("hub_id", ASCENDING)]),
            IndexModel([("member_id", ASCENDING), ("hub_id", ASCENDING)]),
        ],
        "tallies": [],
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
                self.insert("entries", entry)
            except DuplicateKeyError:  # that seq was taken (or this cause written) meanwhile
                continue
            self._move_head(entry)
            return entry
        raise LedgerBusy(
            "This balance is changing right now; retry.",
            {"seller_id": ["Many changes at once to this balance; send the request again."]},
        )

    def entry(self, entry_id: str) -> Document | None:
        return self.db.entries.find_one({"_id": entry_id}, projection=NO_OUTBOX)

    def last_entry(self, account: str) -> Document | None:
        """The account's last entry, found from its head in a lookup or two, never by
        reading its history: the head names an entry written, and is behind only when a
        writer died between its entry and the head (then the entries after it are
        found one by one)."""
        head = self.db.accounts.find_one({"_id": account}, projection={"seq": True})
        seq = head["seq"] if head is not None else 0
        last = self._entry_at(account, seq) if seq else None
        while (following := self._entry_at(account, seq + 1)) is not None:
            last, seq = following, seq + 1
        return last

    def _entry_at(self, account: str, seq: int) -> Document | None:
        return self.db.entries.find_one({"account": account, "seq": seq}, projection=NO_OUTBOX)

    def _move_head(self, entry: Document) -> None:
        """Point the account's head at ``entry``, unless a later entry is there already."""
        fields = ("hub_id", "seller_id", "agent_id", "member_id", "seq", "balance_after", "at")
        try:
            self.db.accounts.update_one(
                {"_id": entry["account"], "seq": {"$lt": entry["seq"]}},
                {"$set": {field: entry[field] for field in fields}},
                upsert=True,
            )
        except DuplicateKeyError:  # the head is at a later entry
            pass

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
        if entries:  # the entry before the first of the period
            before = self._entry_at(account, entries[0]["seq"] - 1)
        else:
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
        return self.db.accounts.find_one({"_id": account}, projection={"_id": True}) is not None

    def balances_of(self, member_id: str, page: int, page_size: int) -> tuple[list[Document], int]:
        """A page of the last entry of each account the member holds, as a seller or as
        an agent (by hub id, then account), and how many accounts."""
        # accounts written before entries named their member have only ``seller_id``
        query = {"$or": [{"seller_id": member_id}, {"member_id": member_id}]}
        total = self.db.accounts.count_documents(query)
        heads = (
            self.db.accounts.find(query, projection={"_id": True})
            .sort([("hub_id", ASCENDING), ("_id", ASCENDING)])
            .skip((page - 1) * page_size)
            .limit(page_size)
        )
        last = (self.last_entry(head["_id"]) for head in heads)
        return [entry for entry in last if entry is not None], total

    # --- each hub's commission per day, for the network report ---

    def tally(self, hub_id: str) -> None:
        """Count the hub's commission entries not counted yet into their days (WIB): what
        the hub kept, and the agents' share each carries, in order and each once: the
        hub's tally moves from one entry to the next with a compare-and-set on the last
        it counted, so a crash, a redelivery or two workers at once never count an order
        twice, and the next handling catches up."""
        account = domain.account_of(hub_id, None)
        while True:
            found = self.db.tallies.find_one({"_id": hub_id}, projection={"tallied_seq": True})
            seq = found["tallied_seq"] if found is not None else 0
            entry = self._entry_at(account, seq + 1)
            if entry is None:
                return
            day = f"days.{wib_day(entry['settled_at'])}"
            counts = {
                f"{day}.commission": entry["amount"],
                f"{day}.agent_commission": entry.get("agent_commission") or 0,
                f"{day}.settled_orders": 1,
            }
            try:
                self.db.tallies.update_one(
                    {"_id": hub_id, "tallied_seq": seq},
                    {"$set": {"tallied_seq": seq + 1}, "$inc": counts},
                    upsert=True,
                )
            except DuplicateKeyError:  # another worker counted it: look again
                continue

    def tallies(self) -> list[Document]:
        """Every hub's ``{_id: hub_id, days: {day: {commission, agent_commission,
        settled_orders}}}``: one small document per hub, whatever the number of orders."""
        return list(self.db.tallies.find({}, projection={"days": True}))
