import datetime
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

from services.common import metrics
from services.common.actor import Actor
from services.common.envelope import OutboxEntry, utcnow
from services.common.errors import Conflict, NotFound
from services.common.periods import in_period
from services.common.storage import Repository
from services.common.types import Document, Query
from services.community import channels, domain, otp, throttling
from services.community.contract import APPROVED
from services.community.exceptions import (
    BroadcastNotFound,
    GroupNotFound,
    HubNotFound,
    MemberNotFound,
    MembershipNotFound,
    PhoneAlreadyRegistered,
    TooManyAttempts,
    TrainingNotFound,
)

NO_OUTBOX = {"outbox": False}
RESERVE_TRIES = 20

Reservation = tuple[throttling.Throttle, Document | None, Document]
"""One counter an attempt reserved: the throttle, its document before and after."""


def _outbox_index() -> IndexModel:
    return IndexModel([("outbox.event_id", ASCENDING)], sparse=True)


class CommunityRepository(Repository):
    aggregates = (
        "members",
        "hubs",
        "memberships",
        "trainings",
        "one_time_codes",
        "agents",
        "contacts",
        "broadcasts",
    )
    indexes = {
        "members": [IndexModel([("phone", ASCENDING)], unique=True), _outbox_index()],
        "hubs": [
            IndexModel([("slug", ASCENDING)], unique=True),
            IndexModel([("coordinator_ids", ASCENDING)]),
            IndexModel([("name", ASCENDING)]),
            _outbox_index(),
        ],
        "memberships": [
            # the natural key: one membership per member, hub and role
            IndexModel(
                [("member_id", ASCENDING), ("hub_id", ASCENDING), ("role", ASCENDING)],
                unique=True,
            ),
            IndexModel([("hub_id", ASCENDING), ("status", ASCENDING), ("created_at", ASCENDING)]),
            _outbox_index(),
        ],
        "trainings": [
            # the natural key: one training per hub, title and start time
            IndexModel(
                [("hub_id", ASCENDING), ("title", ASCENDING), ("starts_at", ASCENDING)],
                unique=True,
            ),
            IndexModel([("hub_id", ASCENDING), ("starts_at", ASCENDING)]),
            IndexModel([("completed", ASCENDING)]),
            _outbox_index(),
        ],
        "login_attempts": [
            IndexModel(
                [("updated_at", ASCENDING)],
                expireAfterSeconds=int(throttling.ATTEMPTS_KEPT.total_seconds()),
            )
        ],
        "one_time_codes": [
            IndexModel(
                [("updated_at", ASCENDING)],
                expireAfterSeconds=int(otp.RECORD_KEPT.total_seconds()),
            ),
            _outbox_index(),
        ],
        "agents": [
            # one agent per member and hub
            IndexModel([("hub_id", ASCENDING), ("member_id", ASCENDING)], unique=True),
            IndexModel([("member_id", ASCENDING)]),
            IndexModel([("hub_id", ASCENDING), ("appointed_at", ASCENDING)]),
            _outbox_index(),
        ],
        "groups": [
            # the natural key: one group per hub and name
            IndexModel([("hub_id", ASCENDING), ("name", ASCENDING)], unique=True),
            IndexModel([("hub_id", ASCENDING), ("agent_member_id", ASCENDING)]),
        ],
        "contacts": [
            IndexModel([("group_id", ASCENDING), ("added_at", ASCENDING)]),
            IndexModel([("phone", ASCENDING)]),
            _outbox_index(),
        ],
        "broadcasts": [
            # at most one broadcast per group and day (WIB)
            IndexModel([("group_id", ASCENDING), ("day", ASCENDING)], unique=True),
            IndexModel([("group_id", ASCENDING), ("created_at", DESCENDING)]),
            _outbox_index(),
        ],
        "consents": [],
    }

    # --- members ------------------------------------------------------------

    def add_member(self, member: Document) -> Document:
        try:
            return self.insert("members", member)
        except DuplicateKeyError:
            raise PhoneAlreadyRegistered(
                "This phone number is already registered; log in instead.",
                {"phone": ["Already registered; use POST /api/v1/auth/token."]},
            ) from None

    def add_or_find_member(self, member: Document) -> tuple[Document, bool]:
        """Add ``member``, or find the one with the same phone: ``(member, created)``."""
        try:
            return self.add_member(member), True
        except PhoneAlreadyRegistered:
            found = self.find_member_by_phone(member["phone"])
            if found is None:  # removed in between: nothing to find
                raise
            return found, False

    def get_member(self, member_id: object, field: str = "member_id") -> Document:
        return self._get("member", member_id, MemberNotFound, field)

    def profile(self, member_id: str) -> Document:
        """The member with their memberships (each with its ``hub``), the hubs they
        coordinate and the trainings they completed."""
        member = self.get_member(member_id)
        memberships = list(
            self.db.memberships.find({"member_id": member_id}, NO_OUTBOX).sort("created_at")
        )
        hubs = self._by_id(self.db.hubs, {m["hub_id"] for m in memberships})
        for membership in memberships:
            membership["hub"] = hubs.get(membership["hub_id"])
        member["memberships"] = memberships
        member["coordinated_hubs"] = list(
            self.db.hubs.find({"coordinator_ids": member_id}, NO_OUTBOX).sort("name")
        )
        member["completed_trainings"] = list(
            self.db.trainings.find({"completed": member_id}, NO_OUTBOX).sort("starts_at")
        )
        return member

    def find_member_by_phone(self, phone: str) -> Document | None:
        return self.db.members.find_one({"phone": phone}, projection=NO_OUTBOX)

    def save_member(self, member: Document) -> Document:
        return self.save("members", member)

    def set_password(
        self, member_id: str, password_hash: str, events: Sequence[OutboxEntry]
    ) -> Document:
        """The member's new password, in one write that also raises their token
        generation (older tokens stop working) and records ``events``."""
        member = self.write(
            "members",
            {"_id": member_id},
            {
                "$set": {"password_hash": password_hash},
                "$inc": {"token_generation": 1, "version": 1},
            },
            events,
            projection=NO_OUTBOX,
        )
        if member is None:
            raise MemberNotFound(f"No member {member_id}.", {"phone": ["Unknown member."]})
        return member

    def roles_of(self, member: Document) -> Actor:
        """The actor of ``member``: admin flag and roles per hub, from memberships
        and coordinated hubs."""
        memberships = list(
            self.db.memberships.find(
                {"member_id": member["_id"], "status": domain.APPROVED},
                projection={"hub_id": True, "role": True, "status": True},
            )
        )
        coordinated = self.db.hubs.find({"coordinator_ids": member["_id"]}, projection={})
        appointed = self.db.agents.find({"member_id": member["_id"]}, projection={"hub_id": True})
        agent_hubs = channels.agent_hubs(
            [agent["hub_id"] for agent in appointed], [m["hub_id"] for m in memberships]
        )
        return domain.actor(member, memberships, [hub["_id"] for hub in coordinated], agent_hubs)

    # --- login throttling (rules in ``throttling``) ---------------------------

    def begin_login(self, phone: str, address: str | None) -> list[Reservation]:
        """Reserve this attempt on every counter of ``throttling.throttles``, or give
        back what was reserved and raise ``TooManyAttempts``."""
        counted = self.db.login_attempts.find_one({"_id": throttling.phone_key(phone)}) or {}
        reserved: list[Reservation] = []
        try:
            for throttle in throttling.throttles(phone, address, counted.get("failures", 0)):
                reserved.append(self._reserve(throttle))
        except TooManyAttempts:
            self._give_back(reserved)
            metrics.RATE_LIMITED.labels("login").inc()
            raise
        return reserved

    def login_failed(self, phone: str) -> None:
        """The password was wrong: the reservations stand, and the phone counts one
        more failure from anywhere."""
        metrics.LOGIN_FAILURES.inc()
        now = utcnow()
        self.db.login_attempts.update_one(
            {"_id": throttling.phone_key(phone)},
            {"$inc": {"failures": 1}, "$set": {"updated_at": now}},
            upsert=True,
        )

    def login_succeeded(self, reserved: Sequence[Reservation]) -> None:
        """The password was right: the pair starts afresh, the address gets its
        attempt back."""
        *others, (pair, _, _) = reserved
        self._give_back(others)
        self.db.login_attempts.delete_one({"_id": pair.key})

    def clear_login_throttling(self, phone: str) -> None:
        """Forget the wrong passwords counted against ``phone``: its own counter and
        every pair of it with an address (the addresses' own counters stay)."""
        pairs = f"^{re.escape(throttling.pair_key(phone, ''))}"
        self.db.login_attempts.delete_many(
            {"$or": [{"_id": throttling.phone_key(phone)}, {"_id": {"$regex": pairs}}]}
        )

    def _reserve(self, throttle: throttling.Throttle) -> Reservation:
        # compare-and-set on the count: of two attempts that read the same count, one
        # writes and the other reads again (and meets the lock the first one set)
        for _ in range(RESERVE_TRIES):
            before = self.db.login_attempts.find_one({"_id": throttle.key})
            after = throttling.reserve(before, throttle)
            if before is None:
                try:
                    self.db.login_attempts.insert_one({"_id": throttle.key, **after})
                except DuplicateKeyError:
                    continue
                return throttle, before, after
            written = self.db.login_attempts.find_one_and_update(
                {"_id": throttle.key, "failures": before.get("failures")}, {"$set": after}
            )
            if written is not None:
                return throttle, before, after
        raise TooManyAttempts(
            "Too many logins at once; wait a second and try again.", {"retry_after": ["1"]}
        )

    def _give_back(self, reserved: Iterable[Reservation]) -> None:
        for throttle, before, after in reserved:
            # untouched since: exactly as before; else others counted since, and only
            # this attempt comes off
            locked_before = (before or {}).get("locked_until")
            restored = self.db.login_attempts.update_one(
                {"_id": throttle.key, "failures": after["failures"]},
                {"$inc": {"failures": -1}, "$set": {"locked_until": locked_before}},
            )
            if not restored.matched_count:
                self.db.login_attempts.update_one(
                    {"_id": throttle.key, "failures": {"$gt": 0}}, {"$inc": {"failures": -1}}
                )

    # --- one-time codes (rules in ``otp``) -------------------------------------

    def change_code(
        self, phone: str, change: Callable[[Document | None], otp.Outcome]
    ) -> Document | None:
        """Apply ``change`` to the phone's code record in one conditional write (read
        again and retried when another request wrote it in between), then raise the
        error it answered, if any."""
        for _ in range(RESERVE_TRIES):
            before = self.db.one_time_codes.find_one({"_id": phone}, NO_OUTBOX)
            after, problem = change(before)
            if after is not None:
                try:
                    if before is None:
                        self.insert("one_time_codes", after)
                    else:
                        self.save("one_time_codes", after)
                except (DuplicateKeyError, Conflict):
                    continue
            if problem is not None:
                raise problem
            return after
        raise TooManyAttempts(
            "Too many requests for this phone at once; wait a second and try again.",
            {"retry_after": ["1"]},
        )

    # --- hubs ---------------------------------------------------------------

    def add_hub(self, hub: Document) -> Document:
        """Insert ``hub``, or return the hub that already has its slug."""
        return self.insert_or_find("hubs", hub, ("slug",))

    def get_hub(self, hub_id: object) -> Document:
        """A hub by id (or by slug)."""
        hub_id = str(hub_id)
        hub = self.db.hubs.find_one({"$or": [{"_id": hub_id}, {"slug": hub_id}]}, NO_OUTBOX)
        if hub is None:
            raise HubNotFound(f"No hub {hub_id}.", {"hub_id": ["Unknown hub."]})
        return hub

    def list_hubs(self, page: int, page_size: int) -> tuple[list[Document], int]:
        return self._page(self.db.hubs, {}, [("name", ASCENDING)], page, page_size)

    def save_hub(self, hub: Document) -> Document:
        return self.save("hubs", hub)

    def network_members(
        self, start: datetime.datetime | None, end: datetime.datetime | None
    ) -> list[Document]:
        """Per hub: approved members by role, coordinators, and the trainings that
        started in ``[start, end)`` (and before now) with their completions, all
        counted by the store (``domain.network_members`` puts them in rows)."""
        hubs = self.db.hubs.aggregate(
            [
                {
                    "$project": {
                        "name": True,
                        "district": True,
                        "coordinators": {"$size": {"$ifNull": ["$coordinator_ids", []]}},
                    }
                }
            ]
        )
        roles = self.db.memberships.aggregate(
            [
                {"$match": {"status": APPROVED}},
                {"$group": {"_id": {"hub_id": "$hub_id", "role": "$role"}, "count": {"$sum": 1}}},
                {
                    "$project": {
                        "_id": False,
                        "hub_id": "$_id.hub_id",
                        "role": "$_id.role",
                        "count": True,
                    }
                },
            ]
        )
        now = utcnow()
        started = in_period(start, now if end is None else min(end, now))
        trainings = self.db.trainings.aggregate(
            [
                {"$match": {"starts_at": started}},
                {
                    "$group": {
                        "_id": "$hub_id",
                        "held": {"$sum": 1},
                        "completed": {"$sum": {"$size": "$completed"}},
                    }
                },
            ]
        )
        return domain.network_members(list(hubs), list(roles), list(trainings))

    # --- memberships --------------------------------------------------------

    def add_membership(self, membership: Document) -> Document:
        """Insert ``membership``, or return the one this member already has in this
        hub and role."""
        return self.insert_or_find("memberships", membership, ("member_id", "hub_id", "role"))

    def get_membership(self, membership_id: object) -> Document:
        return self._get("membership", membership_id, MembershipNotFound)

    def save_membership(self, membership: Document) -> Document:
        return self.save("memberships", membership)

    def list_memberships(
        self, hub_id: str, filters: Mapping[str, Any], page: int, page_size: int
    ) -> tuple[list[Document], int]:
        """A page of the hub's memberships, each with its ``member`` (name, phone)."""
        query = {"hub_id": hub_id, **filters}
        sort = [("created_at", ASCENDING), ("_id", ASCENDING)]
        items, total = self._page(self.db.memberships, query, sort, page, page_size)
        members = self._by_id(self.db.members, {m["member_id"] for m in items})
        for membership in items:
            membership["member"] = members.get(membership["member_id"])
        return items, total

    # --- trainings ----------------------------------------------------------

    def add_training(self, training: Document) -> Document:
        """Insert ``training``, or return the one the hub already has at this title
        and start time."""
        return self.insert_or_find("trainings", training, ("hub_id", "title", "starts_at"))

    def get_training(self, training_id: object) -> Document:
        return self._get("training", training_id, TrainingNotFound)

    def list_trainings(self, hub_id: str, page: int, page_size: int) -> tuple[list[Document], int]:
        sort = [("starts_at", ASCENDING), ("_id", ASCENDING)]
        return self._page(self.db.trainings, {"hub_id": hub_id}, sort, page, page_size)

    def enrol(
        self, training_id: str, member_id: str, events: Sequence[OutboxEntry]
    ) -> Document | None:
        """Take a seat for ``member_id`` in one conditional write (never two members
        in the last seat, never one member twice); ``None`` when refused."""
        return self._push_if(
            training_id,
            {"enrolled": {"$ne": member_id}, "seats_left": {"$gt": 0}},
            {"$push": {"enrolled": member_id}, "$inc": {"seats_left": -1, "version": 1}},
            events,
        )

    def complete(
        self, training_id: str, member_id: str, events: Sequence[OutboxEntry]
    ) -> Document | None:
        """Record that an enrolled ``member_id`` completed it, in one conditional
        write; ``None`` when refused (not enrolled, or already recorded)."""
        return self._push_if(
            training_id,
            {"enrolled": member_id, "completed": {"$ne": member_id}},
            {"$push": {"completed": member_id}, "$inc": {"version": 1}},
            events,
        )

    def _push_if(
        self, training_id: str, conditions: Query, update: Query, events: Sequence[OutboxEntry]
    ) -> Document | None:
        return self.write(
            "trainings", {"_id": training_id, **conditions}, update, events, projection=NO_OUTBOX
        )

    # --- agents, groups, contacts, broadcasts (rules in ``channels``) ----------

    def is_member_of(self, hub_id: str, member_id: str) -> bool:
        """Whether ``member_id`` is an approved seller or buyer of the hub now."""
        found = {"hub_id": hub_id, "member_id": member_id, "status": APPROVED}
        return self.db.memberships.count_documents(found, limit=1) > 0

    def add_agent(self, agent: Document) -> Document:
        """Insert ``agent`` (with its events); the member's existing agent of this hub
        is ``AgentAlreadyAppointed``."""
        try:
            return self.insert("agents", agent)
        except DuplicateKeyError:
            found = self.db.agents.find_one(
                {"hub_id": agent["hub_id"], "member_id": agent["member_id"]}, NO_OUTBOX
            )
            if found is None:  # removed in between: nothing to name
                raise
            raise channels.already_appointed(found) from None

    def find_agent(self, agent_id: object) -> Document | None:
        return self.db.agents.find_one({"_id": str(agent_id)}, NO_OUTBOX)

    def list_agents(self, hub_id: str, page: int, page_size: int) -> tuple[list[Document], int]:
        sort = [("appointed_at", ASCENDING), ("_id", ASCENDING)]
        return self._page(self.db.agents, {"hub_id": hub_id}, sort, page, page_size)

    def add_group(self, group: Document) -> Document:
        """Insert ``group``, or return the one the hub already has by that name."""
        return self.with_contacts([self.insert_or_find("groups", group, ("hub_id", "name"))])[0]

    def get_group(self, group_id: object) -> Document:
        """The group as shown, with how many contacts it has."""
        return self.with_contacts([self.find_group(group_id)])[0]

    def find_group(self, group_id: object) -> Document:
        """The group, without counting its contacts (adding the 5,000th contact should
        not count the 4,999 before it)."""
        return self._get("group", group_id, GroupNotFound)

    def list_groups(
        self, hub_id: str, conditions: Query, page: int, page_size: int
    ) -> tuple[list[Document], int]:
        query = {"hub_id": hub_id, **conditions}
        sort = [("name", ASCENDING), ("_id", ASCENDING)]
        groups, total = self._page(self.db.groups, query, sort, page, page_size)
        return self.with_contacts(groups), total

    def with_contacts(self, groups: list[Document]) -> list[Document]:
        """``groups``, each with ``contacts``: how many it has, counted by the store."""
        counted = self.db.contacts.aggregate(
            [
                {"$match": {"group_id": {"$in": [group["_id"] for group in groups]}}},
                {"$group": {"_id": "$group_id", "count": {"$sum": 1}}},
            ]
        )
        counts = {row["_id"]: row["count"] for row in counted}
        for group in groups:
            group["contacts"] = counts.get(group["_id"], 0)
        return groups

    def add_contact(self, contact: Document) -> tuple[Document, bool]:
        """Insert ``contact`` with its ``contact_added``, or find the group's contact
        with that phone (its event not written again): ``(contact, created)``."""
        try:
            return self.with_consent([self.insert("contacts", contact)])[0], True
        except DuplicateKeyError:
            found = self.db.contacts.find_one({"_id": contact["_id"]}, NO_OUTBOX)
            if found is None:  # removed in between: nothing to find
                raise
            return self.with_consent([found])[0], False

    def list_contacts(self, group_id: str, page: int, page_size: int) -> tuple[list[Document], int]:
        sort = [("added_at", ASCENDING), ("_id", ASCENDING)]
        query = {"group_id": group_id}
        contacts, total = self._page(self.db.contacts, query, sort, page, page_size)
        return self.with_consent(contacts), total

    def all_contacts(self, group_id: str) -> list[Document]:
        """Every contact of the group, in the order they were added."""
        found = self.db.contacts.find({"group_id": group_id}, {"phone": True, "name": True})
        return list(found.sort([("added_at", ASCENDING), ("_id", ASCENDING)]))

    def with_consent(self, contacts: list[Document]) -> list[Document]:
        """``contacts``, each with ``opted_out`` as messaging last said of its phone."""
        phones = [contact["phone"] for contact in contacts]
        said = {c["_id"]: c["opted_out"] for c in self.db.consents.find({"_id": {"$in": phones}})}
        for contact in contacts:
            contact["opted_out"] = said.get(contact["phone"], False)
        return contacts

    def save_consent(self, data: Mapping[str, Any], as_of: str) -> None:
        """Whether ``data["phone"]`` wants no broadcasts, by the newest
        ``broadcast_consent_changed``: an older one never overwrites a newer one."""
        try:
            self.db.consents.update_one(
                {"_id": data["phone"], "$or": [{"as_of": None}, {"as_of": {"$lte": as_of}}]},
                {"$set": {"opted_out": bool(data["opted_out"]), "as_of": as_of}},
                upsert=True,
            )
        except DuplicateKeyError:  # a newer event already wrote this phone
            pass

    def add_broadcast(self, broadcast: Document) -> Document:
        """Insert ``broadcast`` with its ``broadcast_requested`` (one write); today's
        broadcast of the group is that same request retried, or
        ``BroadcastAlreadySent`` naming it."""
        try:
            return self.insert("broadcasts", broadcast)
        except DuplicateKeyError:
            key = {"group_id": broadcast["group_id"], "day": broadcast["day"]}
            found = self.db.broadcasts.find_one(key, NO_OUTBOX)
            if found is None:  # removed in between: nothing to name
                raise
            if channels.same_request(found, broadcast):
                return found
            raise channels.already_sent(found) from None

    def get_broadcast(self, broadcast_id: object) -> Document:
        return self._get("broadcast", broadcast_id, BroadcastNotFound)

    def broadcast_for_reply(
        self, phone: str, product_ids: Sequence[str], since: datetime.datetime
    ) -> str | None:
        """The newest broadcast since ``since`` to a group with ``phone`` as a contact
        that named one of ``product_ids``."""
        groups = [c["group_id"] for c in self.db.contacts.find({"phone": phone}, {"group_id": 1})]
        if not groups or not product_ids:
            return None
        found = (
            self.db.broadcasts.find(
                {
                    "group_id": {"$in": groups},
                    "created_at": {"$gte": since},
                    "product_ids": {"$in": list(product_ids)},
                },
                {"_id": True},
            )
            .sort([("created_at", DESCENDING), ("_id", DESCENDING)])
            .limit(1)
        )
        return next((broadcast["_id"] for broadcast in found), None)

    def count_order(self, broadcast_id: str, order_id: str) -> bool:
        """Count ``order_id`` as placed in reply to the broadcast, once; whether the
        broadcast is known."""
        counted = self.db.broadcasts.update_one(
            {"_id": broadcast_id, "order_ids": {"$ne": order_id}},
            {"$push": {"order_ids": order_id}, "$inc": {"orders": 1, "version": 1}},
        )
        return (
            counted.matched_count > 0
            or self.db.broadcasts.count_documents({"_id": broadcast_id}, limit=1) > 0
        )

    # --- helpers ------------------------------------------------------------

    def _get(
        self, kind: str, document_id: object, missing: type[NotFound], field: str = ""
    ) -> Document:
        """The ``kind`` (``"member"``: a document of ``members``) with this id, or
        ``missing`` naming ``field`` (``<kind>_id`` unless given)."""
        document = self.db[f"{kind}s"].find_one({"_id": str(document_id)}, NO_OUTBOX)
        if document is None:
            details = {field or f"{kind}_id": [f"Unknown {kind}."]}
            raise missing(f"No {kind} {document_id}.", details)
        return document

    @staticmethod
    def _by_id(collection: Collection[Document], ids: Iterable[str]) -> dict[str, Document]:
        hidden = {"outbox": False, "password_hash": False}
        found = collection.find({"_id": {"$in": list(ids)}}, hidden)
        return {document["_id"]: document for document in found}

    @staticmethod
    def _page(
        collection: Collection[Document],
        query: Query,
        sort: list[tuple[str, int]],
        page: int,
        page_size: int,
    ) -> tuple[list[Document], int]:
        total = collection.count_documents(query)
        cursor = (
            collection.find(query, NO_OUTBOX)
            .sort(sort)
            .skip((page - 1) * page_size)
            .limit(page_size)
        )
        return list(cursor), total
