import datetime

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.errors import DuplicateKeyError

from services.common.envelope import utcnow
from services.common.storage import Repository
from services.notifications.domain import QUEUED

LEASE = datetime.timedelta(seconds=60)


class NotificationsRepository(Repository):
    aggregates = ("notifications",)
    indexes = {
        "notifications": [
            IndexModel([("status", ASCENDING), ("next_attempt_at", ASCENDING)]),
            IndexModel([("recipient_id", ASCENDING), ("created_at", DESCENDING)]),
            IndexModel([("outbox.event_id", ASCENDING)], sparse=True),
        ],
        "contacts": [],
    }

    def save_contact(self, contact, as_of):
        """Keep the newest view of a member; an older event never overwrites a newer."""
        fields = {k: v for k, v in contact.items() if k != "_id"}
        try:
            self.db.contacts.update_one(
                {"_id": contact["_id"], "$or": [{"as_of": None}, {"as_of": {"$lte": as_of}}]},
                {"$set": {**fields, "as_of": as_of}},
                upsert=True,
            )
        except DuplicateKeyError:  # a newer event already wrote this contact
            pass
        return self.db.contacts.find_one({"_id": contact["_id"]})

    def get_contact(self, member_id):
        return self.db.contacts.find_one({"_id": member_id})

    def add_notification(self, notification):
        """Store it once per (event, recipient); ``None`` if it was already there."""
        try:
            return self.insert("notifications", notification)
        except DuplicateKeyError:
            return None

    def claim(self, notification_id=None):
        """Take one due notification (or the one named) for delivery, under a lease,
        so that two replicas never send the same message."""
        now = utcnow()
        query = {
            "status": QUEUED,
            "next_attempt_at": {"$lte": now},
            "$or": [{"lease_until": None}, {"lease_until": {"$lt": now}}],
        }
        if notification_id is not None:
            query["_id"] = notification_id
        return self.db.notifications.find_one_and_update(
            query,
            {"$set": {"lease_until": now + LEASE}},
            projection={"outbox": False},
            sort=[("next_attempt_at", ASCENDING)],
        )

    def release(self, notification):
        notification["lease_until"] = None
        return self.save("notifications", notification)

    def list_for(self, member_id, page, page_size):
        query = {"recipient_id": member_id}
        total = self.db.notifications.count_documents(query)
        cursor = (
            self.db.notifications.find(query, projection={"outbox": False})
            .sort("created_at", DESCENDING)
            .skip((page - 1) * page_size)
            .limit(page_size)
        )
        return list(cursor), total
