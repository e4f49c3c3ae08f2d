"""Who is acting: the actor every service receives with a command, and the questions
every service asks of it.

Community makes the actor (``community.domain.actor``) from a member, their approved
memberships and the hubs they coordinate; the gateway resolves it from the bearer token
and passes it along with each call. Every other service only reads it, through these
helpers, so "a coordinator of this hub" means the same thing everywhere. An admin is
not a role in a hub but a flag on the actor: admins run every hub.

Pure: plain dicts in, answers out. ``None`` stands for an anonymous caller, and a
missing or empty ``roles`` map for a member with no role anywhere.

On the wire the actor travels signed (``sign_actor``), and the RPC entrypoint of
every service (``services/common/rpc.py``) hands a method the actor only after
``verify_actor`` believed it.
"""

import hashlib
import hmac
import json
import time
from collections.abc import Iterable, Mapping
from typing import TypedDict

BUYER = "buyer"
SELLER = "seller"
COORDINATOR = "coordinator"
AGENT = "agent"
"""Appointed by a hub's coordinator to order for customers and run congregation groups
(DESIGN §9); an agent is also an approved member of that hub."""
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


def is_agent(actor: Actor | None, hub_id: str) -> bool:
    """An agent appointed in ``hub_id`` (an admin is not one by being admin)."""
    return has_role(actor, hub_id, AGENT)


def coordinated_hubs(actor: Actor | None) -> list[str]:
    """The hubs the actor is a coordinator of by role, sorted (not every hub for an
    admin: ask ``is_admin`` for that)."""
    roles = _roles(actor)
    return sorted(hub_id for hub_id, names in roles.items() if COORDINATOR in (names or ()))


def _roles(actor: Actor | None) -> Mapping[str, Iterable[str]]:
    return (None if actor is None else actor.get("roles")) or {}


# --- the actor on the wire ---------------------------------------------------------
#
# Anyone who can publish to the broker can call a service, so a service believes an
# actor only when it is signed under the secret key that the gateway and the services
# share, for the one method it is sent to and for a short while. A captured one is
# worth one method for a minute, not an admin's account.

DEFAULT_SIGNED_ACTOR_TTL = 60
"""Seconds a signed actor is believed: long enough for a call waiting in a queue,
short enough that a captured one is soon worthless."""


class SignedActor(TypedDict):
    """``{"actor": {…} or None, "service": "orders", "method": "cancel_order",
    "exp": 1767225600, "sig": "<hex HMAC-SHA256 of the rest>"}``."""

    actor: Actor | None
    service: str
    method: str
    exp: int
    sig: str


class ActorNotBelieved(ValueError):
    """A signed actor that is missing, malformed, forged, expired or meant for another
    method; its message says which, for the log (the caller is told less)."""


def sign_actor(
    actor: Actor | None,
    service: str,
    method: str,
    secret: bytes,
    ttl: float = DEFAULT_SIGNED_ACTOR_TTL,
    now: float | None = None,
) -> SignedActor:
    """``actor`` (``None`` for an anonymous caller) vouched for as the caller of
    ``service.method`` until ``ttl`` seconds from now."""
    expires = int((time.time() if now is None else now) + ttl)
    claims = {"actor": actor, "service": service, "method": method, "exp": expires}
    return {
        "actor": actor,
        "service": service,
        "method": method,
        "exp": expires,
        "sig": _signature(claims, secret),
    }


def verify_actor(
    signed: object, service: str, method: str, secret: bytes, now: float | None = None
) -> Actor | None:
    """The actor inside ``signed``, once it is known to be signed under ``secret`` for
    ``service.method`` and not expired; ``ActorNotBelieved`` otherwise."""
    if not isinstance(signed, Mapping) or not isinstance(signed.get("sig"), str):
        raise ActorNotBelieved("the actor is not signed")
    claims = {key: signed.get(key) for key in ("actor", "service", "method", "exp")}
    try:
        expected = _signature(claims, secret)
    except (TypeError, ValueError):  # not JSON; nothing the gateway signs
        raise ActorNotBelieved("the signed actor is malformed") from None
    if not hmac.compare_digest(expected, str(signed["sig"])):
        raise ActorNotBelieved("the actor's signature does not match")
    if (claims["service"], claims["method"]) != (service, method):
        raise ActorNotBelieved(
            f"the actor was signed for {claims['service']}.{claims['method']}, "
            f"not {service}.{method}"
        )
    expires = claims["exp"]
    if not isinstance(expires, int) or expires <= (time.time() if now is None else now):
        raise ActorNotBelieved("the signed actor has expired")
    actor: Actor | None = claims["actor"]  # signed by a key holder: as the gateway made it
    return actor


def _signature(claims: Mapping[str, object], secret: bytes) -> str:
    canonical = json.dumps(claims, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hmac.new(secret, canonical.encode(), hashlib.sha256).hexdigest()
