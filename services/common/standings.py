"""What a service keeps of community's membership decisions: per membership, whether it
is suspended now (docs/events.md, ``membership_approved`` and ``membership_suspended``).

Events of two types arrive in any order, and one may arrive twice, so the newest
decision wins by ``occurred_at`` and an older one never overwrites it. Catalogue, orders
and the ledger each keep this projection in their own ``standings`` collection.
"""

from collections.abc import Mapping
from typing import Any

from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

from services.common.actor import SELLER
from services.common.types import Document

FIELDS = ("hub_id", "member_id", "role")


def save_standing(
    standings: Collection[Document], data: Mapping[str, Any], suspended: bool, as_of: str
) -> None:
    """Whether the membership of ``data`` (an event's) is suspended now, by its newest
    decision."""
    fields = {key: data.get(key) for key in FIELDS}
    try:
        standings.update_one(
            {"_id": data["membership_id"], "$or": [{"as_of": None}, {"as_of": {"$lte": as_of}}]},
            {"$set": {**fields, "suspended": suspended, "as_of": as_of}},
            upsert=True,
        )
    except DuplicateKeyError:  # a newer decision already wrote this membership
        pass


def seller_standing(standings: Collection[Document], hub_id: str, member_id: object) -> bool | None:
    """``True`` while ``member_id`` is an approved seller of the hub, ``False`` while
    suspended, ``None`` if never approved as one (as far as the service has heard from
    community)."""
    if not isinstance(member_id, str):
        return None
    found = standings.find_one({"hub_id": hub_id, "member_id": member_id, "role": SELLER})
    return None if found is None else not found["suspended"]
