"""Who is suspended where: the services that check a member's standing in a hub
(catalogue for sellers, orders for buyers and sellers, the ledger for whom a hub may
pay) keep their own copy of community's membership decisions, fed by its
``membership_approved`` and ``membership_suspended`` events, so they decide without
calling community. Orders and the ledger also keep who is an agent of which hub, at
what share (``agent_appointed``, DESIGN §9), for the same reason."""

from collections.abc import Mapping
from typing import Any, ClassVar

from pymongo import ASCENDING, IndexModel
from pymongo.errors import DuplicateKeyError

from services.common.actor import SELLER
from services.common.storage import Repository


class StandingsRepository(Repository):
    """A repository that also keeps ``standings``: one document per membership
    (``_id`` its id) with its hub, member, role and whether it is suspended."""

    indexes: ClassVar[dict[str, list[IndexModel]]] = {
        "standings": [IndexModel([("hub_id", ASCENDING), ("member_id", ASCENDING)])]
    }

    def save_standing(self, data: Mapping[str, Any], suspended: bool, as_of: str) -> None:
        """Whether a membership is suspended now, by its newest decision: an older
        event never overwrites a newer one, whatever order they arrive in."""
        fields = {key: data.get(key) for key in ("hub_id", "member_id", "role")}
        try:
            self.db.standings.update_one(
                {
                    "_id": data["membership_id"],
                    "$or": [{"as_of": None}, {"as_of": {"$lte": as_of}}],
                },
                {"$set": {**fields, "suspended": suspended, "as_of": as_of}},
                upsert=True,
            )
        except DuplicateKeyError:  # a newer decision already wrote this membership
            pass

    def seller_standing(self, hub_id: str, member_id: object) -> bool | None:
        """``True`` while ``member_id`` is an approved seller of the hub, ``False`` while
        suspended, ``None`` if never approved as one (as far as the service has heard
        from community)."""
        if not isinstance(member_id, str):
            return None
        found = self.db.standings.find_one(
            {"hub_id": hub_id, "member_id": member_id, "role": SELLER}
        )
        return None if found is None else not found["suspended"]


class AgentsRepository(StandingsRepository):
    """A ``StandingsRepository`` that also keeps ``agents``: one document per agent
    (``_id`` the agent id) with its hub, member and ``commission_percent``."""

    indexes: ClassVar[dict[str, list[IndexModel]]] = {
        **StandingsRepository.indexes,
        "agents": [IndexModel([("hub_id", ASCENDING), ("member_id", ASCENDING)])],
    }

    def save_agent(self, data: Mapping[str, Any], as_of: str) -> None:
        """Keep an agent's appointment; an older event never overwrites a newer."""
        fields = {key: data[key] for key in ("hub_id", "member_id", "commission_percent")}
        try:
            self.db.agents.update_one(
                {"_id": data["agent_id"], "$or": [{"as_of": None}, {"as_of": {"$lte": as_of}}]},
                {"$set": {**fields, "as_of": as_of}},
                upsert=True,
            )
        except DuplicateKeyError:  # a newer event already wrote this agent
            pass

    def agent(self, agent_id: object) -> dict[str, Any] | None:
        """The appointment of ``agent_id``, if the service heard of it."""
        if not isinstance(agent_id, str):  # never a query operator from a caller
            return None
        found: dict[str, Any] | None = self.db.agents.find_one({"_id": agent_id})
        return found

    def agent_of(self, hub_id: str, member_id: str) -> dict[str, Any] | None:
        """The member's appointment as an agent of the hub, if the service heard of one."""
        found: dict[str, Any] | None = self.db.agents.find_one(
            {"hub_id": hub_id, "member_id": member_id}
        )
        return found
