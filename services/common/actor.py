"""Who is acting: the actor every service receives with a command, and the questions
every service asks of it.

Community makes the actor (``community.domain.actor``) from a member, their approved
memberships and the hubs they coordinate; the gateway resolves it from the bearer token
and passes it along with each call. Every other service only reads it, through these
helpers, so "a coordinator of this hub" means the same thing everywhere. An admin is
not a role in a hub but a flag on the actor: admins run every hub.

Pure: plain dicts in, answers out. ``None`` stands for an anonymous caller, and a
missing or empty ``roles`` map for a member with no role anywhere.
"""

from collections.abc import Iterable, Mapping
from typing import TypedDict

BUYER = "buyer"
SELLER = "seller"
COORDINATOR = "coordinator"
MEMBER_ROLES = (SELLER, BUYER)
"""What a membership of a hub makes someone (coordinators are assigned, not members)."""
ROLES = (BUYER, SELLER, COORDINATOR)


class Actor(TypedDict):
    """``{"member_id": "…", "is_admin": False, "roles": {hub_id: ["buyer", "seller"]}}``."""

    member_id: str
    is_admin: bool
    roles: dict[str, list[str]]


def make_actor(
    member_id: str, is_admin: bool = False, roles: Mapping[str, Iterable[str]] | None = None
) -> Actor:
    """An actor with each hub's roles sorted and without repeats."""
    return {
        "member_id": member_id,
        "is_admin": bool(is_admin),
        "roles": {hub_id: sorted(set(names)) for hub_id, names in (roles or {}).items()},
    }


def member_id(actor: Actor | None) -> str | None:
    """Who is acting; ``None`` for an anonymous caller."""
    return None if actor is None else actor.get("member_id")


def is_admin(actor: Actor | None) -> bool:
    return actor is not None and bool(actor.get("is_admin"))


def roles_in(actor: Actor | None, hub_id: str) -> tuple[str, ...]:
    """The actor's roles in ``hub_id`` (the admin flag is not one of them)."""
    return tuple(_roles(actor).get(hub_id) or ())


def has_role(actor: Actor | None, hub_id: str, role: str) -> bool:
    return role in roles_in(actor, hub_id)


def is_coordinator(actor: Actor | None, hub_id: str) -> bool:
    """Coordinators of ``hub_id`` and admins run a hub."""
    return is_admin(actor) or has_role(actor, hub_id, COORDINATOR)


def is_seller(actor: Actor | None, hub_id: str) -> bool:
    """An approved seller of ``hub_id`` (an admin is not one by being admin)."""
    return has_role(actor, hub_id, SELLER)


def is_member(actor: Actor | None, hub_id: str) -> bool:
    """An approved seller or buyer of ``hub_id``."""
    return any(role in MEMBER_ROLES for role in roles_in(actor, hub_id))


def coordinated_hubs(actor: Actor | None) -> list[str]:
    """The hubs the actor is a coordinator of by role, sorted (not every hub for an
    admin: ask ``is_admin`` for that)."""
    roles = _roles(actor)
    return sorted(hub_id for hub_id, names in roles.items() if COORDINATOR in (names or ()))


def _roles(actor: Actor | None) -> Mapping[str, Iterable[str]]:
    return (None if actor is None else actor.get("roles")) or {}
