import datetime

from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.errors import DuplicateKeyError

from services.common.envelope import utcnow
from services.common.storage import Repository
from services.common.types import Document
from services.messaging.contract import ECHO_WINDOW_SECONDS, RECEIVED

LEASE = datetime.timedelta(seconds=60)
NO_OUTBOX = {"outbox": False, "outbox_lease": False}


class MessagingRepository(Repository):
    """Inbound messages (with our reply on each) and phones' broadcast consent."""

    aggregates = ("messages", "consents")
    indexes = {
        "messages": [
            IndexModel([("key", ASCENDING)], unique=True),
            IndexModel([("phone", ASCENDING), ("handled_at", DESCENDING)]),
            IndexModel([("member_id", ASCENDING), ("received_at", DESCENDING)]),
            IndexModel([("hub_ids", ASCENDING), ("understood", ASCENDING)]),
        ],
        "consents": [],
    }

    def add_message(self, message: Document) -> Document | None:
        """Store a new inbound message with its event; ``None`` when the same provider
        id on the same channel was stored before (nothing is written)."""
        try:
            return self.insert("messages", message)
        except DuplicateKeyError:
            return None

    def claim(self, message_id: str) -> Document | None:
        """Take the message for handling under a lease, unless it was handled already
        or another worker holds it."""
        now = utcnow()
        return self.db.messages.find_one_and_update(
            {
                "_id": message_id,
                "status": RECEIVED,
                "$or": [{"lease_until": None}, {"lease_until": {"$lt": now}}],
            },
            {"$set": {"lease_until": now + LEASE}},
            projection=NO_OUTBOX,
            return_document=ReturnDocument.AFTER,
        )

    def release(self, message_id: str) -> None:
        self.db.messages.update_one({"_id": message_id}, {"$set": {"lease_until": None}})

    def is_handled(self, message_id: str) -> bool:
        found = self.db.messages.find_one({"_id": message_id}, projection={"status": True})
        return found is not None and found["status"] != RECEIVED

    def finish(self, message: Document) -> Document:
        """Write the handled message, its reply and its events in one update."""
        message["lease_until"] = None
        return self.save("messages", message)

    def recent_replies(self, phone: str, now: datetime.datetime | None = None) -> list[Document]:
        since = (now or utcnow()) - datetime.timedelta(seconds=ECHO_WINDOW_SECONDS)
        return list(
            self.db.messages.find(
                {"phone": phone, "handled_at": {"$gte": since}},
                projection={"reply": True, "reply_key": True},
            )
            .sort("handled_at", DESCENDING)
            .limit(50)
        )

    def get_consent(self, phone: str) -> Document | None:
        return self.db.consents.find_one({"_id": phone}, projection=NO_OUTBOX)

    def save_consent(self, consent: Document) -> Document:
        if "version" in consent:
            return self.save("consents", consent)
        try:
            return self.insert("consents", consent)
        except DuplicateKeyError:  # said at the same moment from two messages: once is enough
            return consent

    def list_for_member(
        self, member_id: str, page: int, page_size: int
    ) -> tuple[list[Document], int]:
        return self._page({"member_id": member_id}, page, page_size)

    def list_not_understood(
        self, hub_id: str, page: int, page_size: int
    ) -> tuple[list[Document], int]:
        return self._page({"hub_ids": hub_id, "understood": False}, page, page_size)

    def _page(self, query: Document, page: int, page_size: int) -> tuple[list[Document], int]:
        total = self.db.messages.count_documents(query)
        cursor = (
            self.db.messages.find(query, projection=NO_OUTBOX)
            .sort([("received_at", DESCENDING), ("_id", DESCENDING)])
            .skip((page - 1) * page_size)
            .limit(page_size)
        )
        return list(cursor), total
