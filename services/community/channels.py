"""Community channels (DESIGN §9): agents, congregation groups with their contacts,
and broadcasts of a hub's products to a group. Pure rules, like ``domain``.

- An **agent** is an approved member of a hub appointed by its coordinator, with a
  share of the hub's commission (never more than the hub takes). Being an agent is a
  role in that hub (``services.common.actor.AGENT``) for as long as the member is an
  approved member of it.
- A **group** (*jamaah*, *majelis taklim*, *ranting*) belongs to a hub and may be run
  by one of its agents; the coordinator sees every group of the hub, an agent their own.
- A **contact** is a phone in a group, member or not: added once per group (its
  natural key), told once who added it (``contact_added``).
- A **broadcast** sends up to three of the hub's products to every contact of a group,
  at most once a day (WIB) per group; who still wants broadcasts is checked when each
  message is sent, by notifications.
"""

import datetime
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from services.common.actor import Actor, is_agent, is_coordinator
from services.common.envelope import new_id, record, utcnow
from services.common.errors import invalid
from services.common.periods import wib_day
from services.common.types import Document
from services.community.contract import (
    AGENT_APPOINTED,
    BROADCAST_REQUESTED,
    CONTACT_ADDED,
    ROLES_CHANGED,
    BroadcastProduct,
    BroadcastRequested,
    ContactAdded,
)
from services.community.domain import money_settings, require_coordinator
from services.community.exceptions import (
    AgentAlreadyAppointed,
    BroadcastAlreadySent,
    GroupHasNoContacts,
    GroupTaken,
    NotAllowed,
    NotAMember,
)

REPLY_WINDOW = datetime.timedelta(days=7)
"""How long after a broadcast an order by text from one of its contacts counts as a
reply to it."""


# --- agents -----------------------------------------------------------------------


def check_can_appoint_agent(hub: Document, actor: Actor) -> None:
    require_coordinator(actor, hub["_id"], "appoint agents")


def check_can_list_agents(hub: Document, actor: Actor) -> None:
    require_coordinator(actor, hub["_id"], "list its agents")


def new_agent(
    hub: Document,
    fields: Mapping[str, Any],
    is_member: bool,
    actor: Actor,
    now: datetime.datetime | None = None,
) -> Document:
    """The coordinator appoints ``fields["member_id"]`` (``is_member``: an approved
    member of the hub) with ``fields["commission_percent"]``, at most the hub's own."""
    check_can_appoint_agent(hub, actor)
    hub_percent = money_settings(hub)["commission_percent"]
    if fields["commission_percent"] > hub_percent:
        raise invalid(
            "commission_percent",
            f"Send at most the hub's commission, {hub_percent}: an agent's share is taken from it.",
        )
    if not is_member:
        raise NotAMember(
            "Only an approved member of this hub can be its agent; the member applies "
            "and is approved first.",
            {"member_id": ["Not an approved member of this hub."], "reason": ["not_a_member"]},
        )
    agent = {
        "_id": new_id(),
        "hub_id": hub["_id"],
        "member_id": fields["member_id"],
        "commission_percent": fields["commission_percent"],
        "appointed_by": actor["member_id"],
        "appointed_at": now or utcnow(),
    }
    record(
        agent,
        AGENT_APPOINTED,
        {
            "agent_id": agent["_id"],
            "hub_id": agent["hub_id"],
            "member_id": agent["member_id"],
            "commission_percent": agent["commission_percent"],
            "appointed_by": agent["appointed_by"],
        },
    )
    record(agent, ROLES_CHANGED, {"member_id": agent["member_id"]})
    return agent


def already_appointed(agent: Document) -> AgentAlreadyAppointed:
    return AgentAlreadyAppointed(
        f"This member is already an agent of this hub ({agent['_id']}).",
        {"member_id": [f"Already agent {agent['_id']} of this hub."], "agent_id": [agent["_id"]]},
    )


def agent_hubs(agent_hub_ids: Iterable[str], member_hub_ids: Iterable[str]) -> list[str]:
    """The hubs where a member acts as an agent: appointed there, and an approved
    member there now (a suspension takes the agent's role with the membership)."""
    members_of = set(member_hub_ids)
    return sorted(hub_id for hub_id in set(agent_hub_ids) if hub_id in members_of)


# --- groups -----------------------------------------------------------------------


def check_can_create_group(hub: Document, actor: Actor) -> None:
    require_coordinator(actor, hub["_id"], "create groups")


def new_group(
    hub: Document,
    fields: Mapping[str, Any],
    agent: Document | None,
    actor: Actor,
    now: datetime.datetime | None = None,
) -> Document:
    """A group of the hub; ``agent`` the agent named by ``fields["agent_id"]``, if any
    (``None`` when it names none of this hub's agents)."""
    check_can_create_group(hub, actor)
    agent_id = fields.get("agent_id")
    if agent_id is not None and (agent is None or agent["hub_id"] != hub["_id"]):
        raise invalid("agent_id", "Send the id of an agent of this hub, or leave it out.")
    return {
        "_id": new_id(),
        "hub_id": hub["_id"],
        "name": fields["name"].strip(),
        "kind": fields["kind"],
        "agent_id": agent_id,
        "agent_member_id": None if agent is None else agent["member_id"],
        "created_by": actor["member_id"],
        "created_at": now or utcnow(),
    }


def check_same_group(group: Document, fields: Mapping[str, Any]) -> None:
    """A retried creation finds the group it made; another group of the hub by that
    name is a conflict."""
    if group["kind"] != fields["kind"] or group["agent_id"] != fields.get("agent_id"):
        raise GroupTaken(
            f"This hub already has a group named like this ({group['_id']}).",
            {"name": [f"Taken by group {group['_id']}; send another name."]},
        )


def runs_group(actor: Actor, group: Document) -> bool:
    """The hub's coordinator (or an admin), or the agent the group belongs to."""
    if is_coordinator(actor, group["hub_id"]):
        return True
    return (
        group.get("agent_member_id") is not None
        and group["agent_member_id"] == actor["member_id"]
        and is_agent(actor, group["hub_id"])
    )


def check_can_use_group(group: Document, actor: Actor) -> None:
    """See the group, its contacts and broadcasts, add contacts, start a broadcast."""
    if not runs_group(actor, group):
        raise NotAllowed(
            "Only a coordinator of this group's hub or the group's own agent may do this.",
            {"group_id": ["Not a group you run."]},
        )


def groups_visible(hub: Document, actor: Actor) -> Mapping[str, Any]:
    """Which of the hub's groups ``actor`` may list, as conditions on them: all for
    its coordinator, an agent's own, none for anyone else (``NotAllowed``)."""
    if is_coordinator(actor, hub["_id"]):
        return {}
    if is_agent(actor, hub["_id"]):
        return {"agent_member_id": actor["member_id"]}
    raise NotAllowed("Only a coordinator or an agent of this hub may list its groups.")


# --- contacts ---------------------------------------------------------------------


def contact_id(group_id: str, phone: str) -> str:
    """A phone is in a group once: its contact's natural key."""
    return f"{group_id}:{phone}"


def new_contact(
    group: Document,
    hub: Document,
    fields: Mapping[str, Any],
    adder: Document,
    actor: Actor,
    now: datetime.datetime | None = None,
) -> Document:
    """``fields["phone"]`` (E.164, a mobile) added to the group by ``adder`` (the
    member acting), with the ``contact_added`` its welcome comes from."""
    check_can_use_group(group, actor)
    name = (fields.get("name") or "").strip() or None
    contact = {
        "_id": contact_id(group["_id"], fields["phone"]),
        "group_id": group["_id"],
        "hub_id": group["hub_id"],
        "phone": fields["phone"],
        "name": name,
        "added_by": actor["member_id"],
        "added_at": now or utcnow(),
    }
    data: ContactAdded = {
        "group_id": group["_id"],
        "group_name": group["name"],
        "hub_id": hub["_id"],
        "hub_name": hub["name"],
        "phone": contact["phone"],
        "name": name,
        "added_by_name": adder["name"],
    }
    record(contact, CONTACT_ADDED, data)
    return contact


# --- broadcasts -------------------------------------------------------------------


def new_broadcast(
    group: Document,
    hub: Document,
    products: Sequence[Mapping[str, Any]],
    contacts: Sequence[Document],
    actor: Actor,
    idempotency_key: str | None = None,
    now: datetime.datetime | None = None,
) -> Document:
    """A broadcast of ``products`` (each ``{id, code, name, price, hub_id}``, of the
    group's hub) to every one of ``contacts``, with its ``broadcast_requested``."""
    check_can_use_group(group, actor)
    foreign = [product["id"] for product in products if product["hub_id"] != group["hub_id"]]
    if foreign:
        raise invalid(
            "product_ids",
            f"Send products of this group's hub only; {', '.join(foreign)} belong to another.",
        )
    if not contacts:
        raise GroupHasNoContacts(
            "This group has no contacts yet; add some before broadcasting.",
            {"group_id": ["No contacts to send to."], "reason": ["group_has_no_contacts"]},
        )
    now = now or utcnow()
    shown: list[BroadcastProduct] = [
        {"id": p["id"], "code": p["code"], "name": p["name"], "price": p["price"]} for p in products
    ]
    broadcast = {
        "_id": new_id(),
        "hub_id": group["hub_id"],
        "group_id": group["_id"],
        "product_ids": [product["id"] for product in products],
        "products": [{**product, "hub_id": group["hub_id"]} for product in shown],
        "contacts": len(contacts),
        "requested_by": actor["member_id"],
        "idempotency_key": idempotency_key,
        "created_at": now,
        "day": wib_day(now),
        "orders": 0,
        "order_ids": [],
    }
    data: BroadcastRequested = {
        "broadcast_id": broadcast["_id"],
        "hub_id": hub["_id"],
        "hub_name": hub["name"],
        "group_id": group["_id"],
        "group_name": group["name"],
        "products": shown,
        "recipients": [{"phone": c["phone"], "name": c.get("name")} for c in contacts],
    }
    record(broadcast, BROADCAST_REQUESTED, data)
    return broadcast


def same_request(found: Document, wanted: Document) -> bool:
    """``found``, today's broadcast of the group, is ``wanted`` asked again: the same
    member under the same ``Idempotency-Key`` (a retry that overlapped the first)."""
    return (
        wanted["idempotency_key"] is not None
        and found.get("idempotency_key") == wanted["idempotency_key"]
        and found.get("requested_by") == wanted["requested_by"]
    )


def already_sent(found: Document) -> BroadcastAlreadySent:
    return BroadcastAlreadySent(
        f"This group already had its broadcast today ({found['_id']}); one a day, "
        "try again tomorrow.",
        {
            "group_id": [f"Broadcast {found['_id']} was sent today (WIB)."],
            "broadcast_id": [found["_id"]],
            "reason": ["broadcast_already_sent_today"],
        },
    )
