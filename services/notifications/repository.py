import datetime
from collections.abc import Sequence

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.errors import DuplicateKeyError

from services.common.actor import COORDINATOR, MEMBER_ROLES
from services.common.envelope import utcnow
from services.common.storage import Repository
from services.common.types import Document, Query
from services.notifications.domain import FAILED, QUEUED

LEASE = datetime.timedelta(seconds=60)


class NotificationsRepository(Repository):
    """The delivery log, and what this service keeps of other services' facts
    (contacts, hubs, memberships and coordinators), fed by their events."""

    aggregates = ("notifications",)
    indexes = {
        "notifications": [
            IndexModel([("status", ASCENDING), ("next_attempt_at", ASCENDING)]),
            IndexModel([("recipient_id", ASCENDING), ("created_at", DESCENDING)]),
            IndexModel([("outbox.event_id", ASCENDING)], sparse=True),
        ],
        "contacts": [],
        "hubs": [],
        "memberships": [IndexModel([("hub_id", ASCENDING), ("role", ASCENDING)])],
    }

    # --- projections ---------------------------------------------------------------

    def _project(
        self, collection: str, document: Document, as_of: str, clock: str = "as_of"
    ) -> Document | None:
        """Keep the newest view; an older event never overwrites a newer one. ``clock``
        names the field that dates these fields, for a document whose parts come from
        different events."""
        fields = {k: v for k, v in document.items() if k != "_id"}
        try:
            self.db[collection].update_one(
                {"_id": document["_id"], "$or": [{clock: None}, {clock: {"$lte": as_of}}]},
                {"$set": {**fields, clock: as_of}},
                upsert=True,
            )
        except DuplicateKeyError:  # a newer event already wrote this document
            pass
        return self.db[collection].find_one({"_id": document["_id"]})

    def save_contact(self, contact: Document, as_of: str) -> Document | None:
        return self._project("contacts", contact, as_of)

    def get_contact(self, member_id: str) -> Document | None:
        return self.db.contacts.find_one({"_id": member_id})

    def save_hub(self, hub: Document, as_of: str) -> Document | None:
        return self._project("hubs", hub, as_of)

    def save_hub_settings(self, settings: Document, as_of: str) -> Document | None:
        """The hub's bank account: dated apart from its name and place, so a late
        ``hub_created`` neither loses a newer account nor is lost to it."""
        return self._project("hubs", settings, as_of, clock="settings_as_of")

    def get_hub(self, hub_id: str) -> Document | None:
        return self.db.hubs.find_one({"_id": hub_id})

    def save_membership(self, membership: Document, as_of: str) -> Document | None:
        return self._project("memberships", membership, as_of)

    def coordinators_of(self, hub_id: str) -> list[str]:
        return self._approved(hub_id, [COORDINATOR])

    def members_of(self, hub_id: str) -> list[str]:
        """Members approved in the hub as seller or buyer, each once."""
        return self._approved(hub_id, list(MEMBER_ROLES))

    def _approved(self, hub_id: str, roles: Sequence[str]) -> list[str]:
        cursor = self.db.memberships.find(
            {"hub_id": hub_id, "role": {"$in": roles}, "status": "approved"},
            projection={"member_id": True},
        ).sort("_id", ASCENDING)
        return list(dict.fromkeys(row["member_id"] for row in cursor))

    # --- the delivery log ----------------------------------------------------------

    def add_notification(self, notification: Document, claimed: bool = False) -> Document | None:
        """Store it once per (event, recipient); ``None`` if it was already there.
        ``claimed``: stored already claimed for delivery, as ``claim`` would, to be
        tried at once without a second write to claim it."""
        if claimed:
            notification["lease_until"] = utcnow() + LEASE
        try:
            return self.insert("notifications", notification)
        except DuplicateKeyError:
            return None

    def unclaim(self, notification_ids: Sequence[str]) -> None:
        """Give back claimed notifications that were not tried after all: the timer
        takes them when they are due."""
        if notification_ids:
            self.db.notifications.update_many(
                {"_id": {"$in": list(notification_ids)}}, {"$set": {"lease_until": None}}
            )

    def wake_waiting_for(self, member_id: str) -> None:
        """Messages that waited for this member's contact are due now."""
        self.db.notifications.update_many(
            {"recipient_id": member_id, "status": QUEUED, "text": None},
            {"$set": {"next_attempt_at": utcnow()}},
        )

    def own_backlog(self) -> dict[str, float]:
        """Messages ``notifications_waiting`` to be sent, of which
        ``notifications_failing`` (tried and failed at least once), and
        ``notifications_failed`` (given up after the last try)."""
        notifications = self.db.notifications
        return {
            "notifications_waiting": notifications.count_documents({"status": QUEUED}),
            "notifications_failing": notifications.count_documents(
                {"status": QUEUED, "attempts": {"$gt": 0}}
            ),
            "notifications_failed": notifications.count_documents({"status": FAILED}),
        }

    def claim(self) -> Document | None:
        """Take one due notification for delivery, under a lease, so that two
        replicas never send the same message; an ``urgent`` one (a one-time code)
        before any other."""
        urgent = self._claim({"urgent": True})
        if urgent is not None:
            return urgent
        return self._claim({})

    def _claim(self, only: Query) -> Document | None:
        now = utcnow()
        query: Query = {
            "status": QUEUED,
            "next_attempt_at": {"$lte": now},
            "$or": [{"lease_until": None}, {"lease_until": {"$lt": now}}],
            **only,
        }
        return self.db.notifications.find_one_and_update(
            query,
            {"$set": {"lease_until": now + LEASE}},
            projection={"outbox": False},
            sort=[("next_attempt_at", ASCENDING)],
        )

    def release(self, notification: Document) -> Document:
        notification["lease_until"] = None
        return self.save("notifications", notification)

    def list_for(self, member_id: str, page: int, page_size: int) -> tuple[list[Document], int]:
        query = {"recipient_id": member_id}
        total = self.db.notifications.count_documents(query)
        cursor = (
            self.db.notifications.find(query, projection={"outbox": False})
            .sort("created_at", DESCENDING)
            .skip((page - 1) * page_size)
            .limit(page_size)
        )
        return list(cursor), total
