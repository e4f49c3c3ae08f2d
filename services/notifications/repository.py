import datetime
from collections.abc import Sequence

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.errors import BulkWriteError, DuplicateKeyError

from services.common.actor import COORDINATOR, MEMBER_ROLES
from services.common.envelope import OUTBOX_PENDING, utcnow
from services.common.storage import Repository
from services.common.types import Document, Query
from services.notifications.domain import BROADCAST_LANE, FAILED, QUEUED, STATUSES

LEASE = datetime.timedelta(seconds=60)
BATCH = 500  # notifications a bulk insert writes at once
DUPLICATE_KEY = 11000


class NotificationsRepository(Repository):
    """The delivery log, and what this service keeps of other services' facts
    (contacts, hubs, memberships and coordinators, phones' broadcast consent), fed by
    their events."""

    aggregates = ("notifications",)
    indexes = {
        "notifications": [
            IndexModel([("status", ASCENDING), ("next_attempt_at", ASCENDING)]),
            IndexModel([("recipient_id", ASCENDING), ("created_at", DESCENDING)]),
            IndexModel([("outbox.event_id", ASCENDING)], sparse=True),
            IndexModel(
                [("lane", ASCENDING), ("status", ASCENDING), ("next_attempt_at", ASCENDING)]
            ),
            IndexModel([("broadcast_id", ASCENDING), ("status", ASCENDING)], sparse=True),
            IndexModel([("urgent", ASCENDING)], sparse=True),
        ],
        "contacts": [],
        "consents": [],
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

    def save_consent(self, consent: Document, as_of: str) -> Document | None:
        return self._project("consents", consent, as_of)

    def has_opted_out(self, phone: str | None) -> bool:
        """Whether ``phone`` said ``BERHENTI`` last (and not ``MULAI`` since)."""
        consent = self.db.consents.find_one({"_id": phone}, projection={"opted_out": True})
        return bool(consent and consent.get("opted_out"))

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

    def add_notifications(self, notifications: Sequence[Document]) -> int:
        """Store many at once, ``BATCH`` a write, each once: one already there (a
        repeated event, a handler run again after a crash) is left as it is. How many
        were new."""
        added = 0
        for start in range(0, len(notifications), BATCH):
            batch = notifications[start : start + BATCH]
            for notification in batch:
                notification.update(
                    version=1, outbox=[], lease_until=None, **{OUTBOX_PENDING: False}
                )
            try:
                added += len(self.db.notifications.insert_many(batch, ordered=False).inserted_ids)
            except BulkWriteError as exc:
                errors = exc.details["writeErrors"]
                if any(error["code"] != DUPLICATE_KEY for error in errors):
                    raise
                added += exc.details["nInserted"]
        return added

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
        before any other; none of the broadcast lane (``due_broadcasts``)."""
        urgent = self._claim({"urgent": True, "lane": None})
        if urgent is not None:
            return urgent
        return self._claim({"lane": None})

    def due_broadcasts(self, limit: int) -> list[str]:
        """Ids of up to ``limit`` broadcast messages due now, to ``claim_one`` in
        turn (as many as may go before the next look)."""
        cursor = self.db.notifications.find(
            {**_due(utcnow()), "lane": BROADCAST_LANE}, projection={"_id": True}
        ).limit(limit)
        return [row["_id"] for row in cursor]

    def claim_one(self, notification_id: str) -> Document | None:
        """Take the notification for delivery, under a lease, if it is still due and
        unclaimed."""
        now = utcnow()
        return self.db.notifications.find_one_and_update(
            {**_due(now), "_id": notification_id},
            {"$set": {"lease_until": now + LEASE}},
            projection={"outbox": False},
        )

    def _claim(self, only: Query) -> Document | None:
        now = utcnow()
        return self.db.notifications.find_one_and_update(
            {**_due(now), **only},
            {"$set": {"lease_until": now + LEASE}},
            projection={"outbox": False},
            sort=[("next_attempt_at", ASCENDING)],
        )

    def count_broadcast(self, broadcast_id: str) -> dict[str, int]:
        """``{status: how many}`` of a broadcast's messages."""
        notifications = self.db.notifications
        return {
            status: notifications.count_documents({"broadcast_id": broadcast_id, "status": status})
            for status in STATUSES
        }

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


def _due(now: datetime.datetime) -> Query:
    """Queued, due by ``now``, and claimed by nobody (or by someone whose lease ran
    out: a replica that died while sending)."""
    return {
        "status": QUEUED,
        "next_attempt_at": {"$lte": now},
        "$or": [{"lease_until": None}, {"lease_until": {"$lt": now}}],
    }
