from pymongo import ASCENDING, IndexModel, ReturnDocument
from pymongo.errors import DuplicateKeyError

from services.common.envelope import utcnow
from services.common.storage import Repository
from services.community import domain
from services.community.exceptions import MemberNotFound, PhoneAlreadyRegistered


class CommunityRepository(Repository):
    aggregates = ("members",)
    indexes = {
        "members": [
            IndexModel([("phone", ASCENDING)], unique=True),
            IndexModel([("outbox.event_id", ASCENDING)], sparse=True),
        ],
    }

    def add_member(self, member):
        try:
            return self.insert("members", member)
        except DuplicateKeyError:
            raise PhoneAlreadyRegistered(
                "This phone number is already registered; log in instead.",
                {"phone": ["Already registered; use POST /api/v1/auth/token."]},
            ) from None

    def get_member(self, member_id):
        member = self.db.members.find_one({"_id": member_id}, projection={"outbox": False})
        if member is None:
            raise MemberNotFound(f"No member {member_id}.", {"member_id": ["Unknown member."]})
        return member

    def find_member_by_phone(self, phone):
        return self.db.members.find_one({"phone": phone}, projection={"outbox": False})

    def save_member(self, member):
        return self.save("members", member)

    def login_attempts(self, phone):
        return self.db.login_attempts.find_one({"_id": phone})

    def record_login_failure(self, phone):
        """Count one more wrong password, atomically, and set the lockout."""
        attempts = self.db.login_attempts.find_one_and_update(
            {"_id": phone},
            {"$inc": {"failures": 1}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        lockout = domain.lockout_after(attempts["failures"])
        if lockout:
            self.db.login_attempts.update_one(
                {"_id": phone}, {"$set": {"locked_until": utcnow() + lockout}}
            )

    def clear_login_failures(self, phone):
        self.db.login_attempts.delete_one({"_id": phone})
