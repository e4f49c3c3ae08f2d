"""Community rules: members, hubs, memberships, roles, trainings, login throttling.

No nameko, no pymongo: every function works on plain dicts and records the events
it causes on the aggregate it changed (``record``), or returns them (``make_event``)
for the conditional updates the repository makes in one write.
"""

import datetime
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from services.common.actor import (
    AGENT,
    COORDINATOR,
    MEMBER_ROLES,
    Actor,
    is_admin,
    is_coordinator,
    is_member,
    make_actor,
)
from services.common.envelope import (
    OutboxEntry,
    isoformat,
    make_event,
    new_id,
    payload,
    record,
    utcnow,
)
from services.common.errors import Unauthenticated, invalid
from services.common.phone import normalise_phone
from services.common.slugs import MAX_SLUG, slug_of
from services.common.types import Document
from services.community.contract import (
    APPROVED,
    COORDINATOR_ASSIGNED,
    COORDINATOR_REMOVED,
    DEFAULT_CHANNEL,
    DEFAULT_COMMISSION_PERCENT,
    DEFAULT_LANGUAGE,
    HUB_CREATED,
    HUB_UPDATED,
    MEMBER_REGISTERED,
    MEMBER_UPDATED,
    MEMBERSHIP_APPROVED,
    MEMBERSHIP_REJECTED,
    MEMBERSHIP_REQUESTED,
    MEMBERSHIP_SUSPENDED,
    PENDING,
    REJECTED,
    ROLES_CHANGED,
    SUSPENDED,
    TRAINING_COMPLETED,
    TRAINING_ENROLLED,
    TRAINING_SCHEDULED,
    HubCreated,
    HubUpdated,
    MemberRegistered,
    TrainingEnrolled,
)
from services.community.exceptions import (
    AlreadyEnrolled,
    HubSlugTaken,
    InvalidTransition,
    NotAllowed,
    NotEnrolled,
    TooManyAttempts,
    TrainingFull,
    TrainingTaken,
)

FREE_LOGIN_FAILURES = 5
FIRST_LOCKOUT = datetime.timedelta(seconds=30)
LONGEST_LOCKOUT = datetime.timedelta(minutes=15)
PROFILE_FIELDS = ("name", "email", "preferred_channel", "language")

HUB_FIELDS = ("name", "village", "district", "regency", "province", "address")
MONEY_FIELDS = ("commission_percent", "bank_account")
"""A hub's money settings (docs: DESIGN §8), changed by its coordinator or an admin."""


# --- members ----------------------------------------------------------------


def contact(member: Document) -> MemberRegistered:
    """What other services may know of a member (never the password)."""
    return {
        "member_id": member["_id"],
        "name": member["name"],
        "phone": member["phone"],
        "email": member.get("email"),
        "preferred_channel": member["preferred_channel"],
        "language": member["language"],
    }


def actor(
    member: Document,
    memberships: Iterable[Document] = (),
    coordinated_hub_ids: Iterable[str] = (),
    agent_hub_ids: Iterable[str] = (),
) -> Actor:
    """Who is acting, as other services check it: admin flag and roles per hub.

    ``memberships`` are the member's memberships (only approved ones give a role);
    ``coordinated_hub_ids`` the hubs they coordinate; ``agent_hub_ids`` the hubs they
    act in as an agent (``channels.agent_hubs``).
    """
    roles: dict[str, set[str]] = {}
    for hub_id in coordinated_hub_ids:
        roles.setdefault(hub_id, set()).add(COORDINATOR)
    for hub_id in agent_hub_ids:
        roles.setdefault(hub_id, set()).add(AGENT)
    for membership in memberships:
        if membership["status"] == APPROVED:
            roles.setdefault(membership["hub_id"], set()).add(membership["role"])
    return make_actor(member["_id"], bool(member.get("is_admin")), roles)


def phone_or_none(text: object) -> str | None:
    """``text`` as a stored phone number, or ``None`` when it is not one."""
    try:
        return normalise_phone(text)
    except ValueError:
        return None


def new_member(
    fields: Mapping[str, Any],
    password_hash: str | None,
    is_admin: bool = False,
    now: datetime.datetime | None = None,
) -> Document:
    member = {
        "_id": new_id(),
        "name": fields["name"],
        "phone": fields["phone"],
        "email": fields.get("email"),
        "preferred_channel": fields.get("preferred_channel") or DEFAULT_CHANNEL,
        "language": fields.get("language") or DEFAULT_LANGUAGE,
        "password_hash": password_hash,
        "is_admin": is_admin,
        "created_at": now or utcnow(),
    }
    record(member, MEMBER_REGISTERED, contact(member))
    return member


def make_admin(member: Document) -> Document:
    """Give ``member`` the admin flag; ``roles_changed`` when it is new to them."""
    if member.get("is_admin"):
        return member
    member["is_admin"] = True
    record(member, ROLES_CHANGED, {"member_id": member["_id"]})
    return member


def update_profile(member: Document, changes: Mapping[str, Any]) -> Document:
    """Apply ``changes``; emits ``member_updated`` only when something changed."""
    changed = {k: v for k, v in changes.items() if k in PROFILE_FIELDS and member.get(k) != v}
    if not changed:
        return member
    member.update(changed)
    record(member, MEMBER_UPDATED, {**contact(member), "changed": sorted(changed)})
    return member


def check_token_current(member: Document, generation: int) -> None:
    """A token is refused once the member's password was reset after it was issued
    (each reset raises ``token_generation``)."""
    if generation != member.get("token_generation", 0):
        raise Unauthenticated("The password was reset since this token was issued; log in again.")


def password_reset_events(member: Document) -> list[OutboxEntry]:
    """A new password (by a one-time code): the gateways drop what they cached of the
    member, since the tokens issued before it stop working."""
    return [make_event(ROLES_CHANGED, {"member_id": member["_id"]})]


def lockout_after(failures: int, free: int = FREE_LOGIN_FAILURES) -> datetime.timedelta:
    """How long logins stay refused after ``failures`` consecutive wrong passwords,
    ``free`` of them forgiven."""
    if failures < free:
        return datetime.timedelta(0)
    # the exponent stops where the longest lockout is reached (no overflow)
    doublings = min(failures - free, (LONGEST_LOCKOUT // FIRST_LOCKOUT).bit_length())
    return min(FIRST_LOCKOUT * 2**doublings, LONGEST_LOCKOUT)


def check_not_locked(attempts: Document | None, now: datetime.datetime | None = None) -> None:
    now = now or utcnow()
    locked_until = (attempts or {}).get("locked_until")
    if locked_until and locked_until > now:
        wait = int((locked_until - now).total_seconds()) + 1
        raise TooManyAttempts(
            f"Too many wrong passwords; wait {wait} seconds and try again.",
            {"retry_after": [str(wait)]},
        )


# --- who may do what --------------------------------------------------------

# Who may do what is decided here only. Each operation has its ``check_can_…``; an
# entrypoint calls it before reading the request (an unauthorised caller learns nothing
# of the body's rules or of other records), and the operation changing state calls it
# again, so it is safe wherever it is called from.


def require_admin(actor: Actor, doing: str) -> None:
    if not is_admin(actor):
        raise NotAllowed(f"Only an admin may {doing}.")


def require_coordinator(actor: Actor, hub_id: str, doing: str) -> None:
    if not is_coordinator(actor, hub_id):
        raise NotAllowed(f"Only a coordinator of this hub may {doing}.")


# --- hubs -------------------------------------------------------------------


def slugify(name: str) -> str:
    """``"Simpul Pujon Kidul"`` → ``"simpul-pujon-kidul"`` (ASCII, lower case)."""
    slug = slug_of(name)
    if not slug:
        raise invalid("name", "Send a name with letters or digits.")
    return slug[:MAX_SLUG]


def check_can_create_hub(actor: Actor) -> None:
    require_admin(actor, "create hubs")


def new_hub(
    fields: Mapping[str, Any], actor: Actor, now: datetime.datetime | None = None
) -> Document:
    """A hub created by an admin."""
    check_can_create_hub(actor)
    hub = {
        "_id": new_id(),
        **{field: fields[field].strip() for field in HUB_FIELDS},
        "commission_percent": DEFAULT_COMMISSION_PERCENT,
        "bank_account": None,
        "coordinator_ids": [],
        "created_at": now or utcnow(),
    }
    hub["slug"] = slugify(hub["name"])
    record(hub, HUB_CREATED, hub_data(hub))
    return hub


def hub_data(hub: Document) -> HubCreated:
    return payload(HubCreated, hub, hub_id=hub["_id"])


def check_same_hub(hub: Document, fields: Mapping[str, Any]) -> None:
    """A retried creation finds the hub it made; another hub with that slug is a
    conflict."""
    if any(hub[field] != fields[field].strip() for field in HUB_FIELDS):
        raise HubSlugTaken(
            f"A hub named like this already exists ({hub['slug']}); choose another name.",
            {"name": [f"Taken by hub {hub['_id']}; send a different name."]},
        )


def money_settings(hub: Document) -> dict[str, Any]:
    """``{commission_percent, bank_account}`` of the hub (the defaults for a hub stored
    before hubs had them)."""
    return {
        "commission_percent": hub.get("commission_percent", DEFAULT_COMMISSION_PERCENT),
        "bank_account": hub.get("bank_account"),
    }


def check_can_change_hub(hub: Document, actor: Actor) -> None:
    require_coordinator(actor, hub["_id"], "change its commission or bank account")


def change_hub(hub: Document, actor: Actor, changes: Mapping[str, Any]) -> Document:
    """The hub's coordinator (or an admin) sets its money settings; ``hub_updated``
    names what changed, nothing when nothing did (a retried request)."""
    check_can_change_hub(hub, actor)
    wanted = {**money_settings(hub), **{k: v for k, v in changes.items() if k in MONEY_FIELDS}}
    if wanted["bank_account"] is not None:
        wanted["bank_account"] = {k: v.strip() for k, v in wanted["bank_account"].items()}
    changed = sorted(k for k in MONEY_FIELDS if money_settings(hub)[k] != wanted[k])
    if not changed:
        return hub
    hub.update(wanted)
    data: HubUpdated = {
        "hub_id": hub["_id"],
        "name": hub["name"],
        "commission_percent": hub["commission_percent"],
        "bank_account": hub["bank_account"],
        "changed": changed,
    }
    record(hub, HUB_UPDATED, data)
    return hub


def check_can_see_network(actor: Actor) -> None:
    require_admin(actor, "see the network report")


def network_members(
    hubs: Iterable[Document],
    roles: Iterable[Document],
    trainings: Iterable[Document],
) -> list[Document]:
    """One row per hub, by name, from what the store counted: ``hubs`` ``{_id, name,
    district, coordinators}``, ``roles`` ``{hub_id, role, count}`` of approved
    memberships, ``trainings`` ``{_id: hub_id, held, completed}``; a hub without any
    counts zero."""
    by_role: dict[str, dict[str, int]] = {}
    for row in roles:
        by_role.setdefault(row["hub_id"], {})[row["role"]] = row["count"]
    held = {row["_id"]: row for row in trainings}
    rows = []
    for hub in sorted(hubs, key=lambda hub: (hub["name"], hub["_id"])):
        counts = {role: by_role.get(hub["_id"], {}).get(role, 0) for role in MEMBER_ROLES}
        trained = held.get(hub["_id"], {})
        rows.append(
            {
                "hub_id": hub["_id"],
                "name": hub["name"],
                "district": hub["district"],
                "members_by_role": {**counts, COORDINATOR: hub.get("coordinators", 0)},
                "trainings_held": trained.get("held", 0),
                "trainings_completed": trained.get("completed", 0),
            }
        )
    return rows


def check_can_assign_coordinator(actor: Actor) -> None:
    require_admin(actor, "assign coordinators")


def assign_coordinator(hub: Document, member_id: str, actor: Actor) -> Document:
    """An admin makes ``member_id`` a coordinator of ``hub``; nothing happens the second
    time."""
    check_can_assign_coordinator(actor)
    if member_id in hub["coordinator_ids"]:
        return hub
    hub["coordinator_ids"].append(member_id)
    record(hub, COORDINATOR_ASSIGNED, {"hub_id": hub["_id"], "member_id": member_id})
    record(hub, ROLES_CHANGED, {"member_id": member_id})
    return hub


def check_can_remove_coordinator(actor: Actor) -> None:
    require_admin(actor, "remove coordinators")


def remove_coordinator(hub: Document, coordinator_id: str, actor: Actor) -> Document:
    """An admin takes ``coordinator_id`` off ``hub``'s coordinators; nothing happens
    when they are not one (a retried removal)."""
    check_can_remove_coordinator(actor)
    if coordinator_id not in hub["coordinator_ids"]:
        return hub
    hub["coordinator_ids"].remove(coordinator_id)
    data = {"hub_id": hub["_id"], "member_id": coordinator_id, "removed_by": actor["member_id"]}
    record(hub, COORDINATOR_REMOVED, data)
    record(hub, ROLES_CHANGED, {"member_id": coordinator_id})
    return hub


# --- memberships ------------------------------------------------------------


def new_membership(
    member_id: str, hub: Document, fields: Mapping[str, Any], now: datetime.datetime | None = None
) -> Document:
    now = now or utcnow()
    membership = {
        "_id": new_id(),
        "hub_id": hub["_id"],
        "member_id": member_id,
        "role": fields["role"],
        "business_name": (fields.get("business_name") or "").strip() or None,
        "status": PENDING,
        "reason": None,
        "decided_by": None,
        "decided_at": None,
        "created_at": now,
    }
    record(membership, MEMBERSHIP_REQUESTED, membership_data(membership, "business_name"))
    return membership


def check_can_list_memberships(hub: Document, actor: Actor) -> Document:
    require_coordinator(actor, hub["_id"], "list its memberships")
    return hub


def membership_data(membership: Document, *extra: str) -> dict[str, Any]:
    data = {
        "membership_id": membership["_id"],
        "hub_id": membership["hub_id"],
        "member_id": membership["member_id"],
        "role": membership["role"],
    }
    for field in extra:
        data[field] = membership[field]
    return data


def check_can_decide(membership: Document, actor: Actor, verb: str) -> None:
    """``verb``: approve, reject or suspend. Nobody approves (or reinstates) their own
    membership: another coordinator of the hub, or an admin, does."""
    require_coordinator(actor, membership["hub_id"], f"{verb} memberships")
    if verb == "approve" and membership["member_id"] == actor["member_id"]:
        raise NotAllowed(
            "You cannot approve your own membership; another coordinator of this hub "
            "or an admin approves it.",
            {"membership_id": ["Your own membership."]},
        )


class Decision(NamedTuple):
    """What a coordinator's decision does to a membership."""

    moves_from: tuple[str, ...]
    moves_to: str
    instead: str  # what to do when the membership's status does not allow the decision


# pending → approved or rejected; approved → suspended (the role is gone); suspended →
# approved again (reinstated). Rejected stays rejected.
DECISIONS = {
    "approve": Decision((PENDING, SUSPENDED), APPROVED, "the member applies again in another role"),
    "reject": Decision((PENDING,), REJECTED, "suspend an approved membership instead"),
    "suspend": Decision((APPROVED,), SUSPENDED, "only approved memberships can be suspended"),
}


def decide(
    membership: Document,
    actor: Actor,
    verb: str,
    reason: str | None = None,
    now: datetime.datetime | None = None,
) -> Document:
    """The coordinator's decision ``verb`` (approve, reject or suspend) on the
    membership, with the reason the member is told; deciding the same twice changes
    nothing, and a status the decision does not move from is refused (409)."""
    check_can_decide(membership, actor, verb)
    decision = DECISIONS[verb]
    if membership["status"] == decision.moves_to:
        return membership
    if membership["status"] not in decision.moves_from:
        raise _cannot(verb, membership, decision.instead)
    # a member's roles are their approved memberships
    roles_change = APPROVED in (membership["status"], decision.moves_to)
    membership.update(
        status=decision.moves_to,
        reason=reason,
        decided_by=actor["member_id"],
        decided_at=now or utcnow(),
    )
    _record_decision(membership)
    if roles_change:
        record(membership, ROLES_CHANGED, {"member_id": membership["member_id"]})
    return membership


def _record_decision(membership: Document) -> None:
    """The event of the status a decision moved the membership to: an approval tells
    the business name, a rejection or a suspension its reason."""
    status = membership["status"]
    if status == APPROVED:
        record(
            membership,
            MEMBERSHIP_APPROVED,
            membership_data(membership, "business_name", "decided_by"),
        )
    elif status == REJECTED:
        record(membership, MEMBERSHIP_REJECTED, membership_data(membership, "reason", "decided_by"))
    else:
        record(
            membership, MEMBERSHIP_SUSPENDED, membership_data(membership, "reason", "decided_by")
        )


def _cannot(verb: str, membership: Document, hint: str) -> InvalidTransition:
    return InvalidTransition(
        f"A {membership['status']} membership cannot be {verb}d; {hint}.",
        {"status": [f"Is {membership['status']}."]},
    )


# --- trainings --------------------------------------------------------------


def to_utc(moment: datetime.datetime) -> datetime.datetime:
    """Aware UTC at millisecond precision (what the store keeps); naive is UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    moment = moment.astimezone(datetime.UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def check_can_schedule_training(hub: Document, actor: Actor) -> None:
    require_coordinator(actor, hub["_id"], "schedule trainings")


def new_training(
    hub: Document, fields: Mapping[str, Any], actor: Actor, now: datetime.datetime | None = None
) -> Document:
    check_can_schedule_training(hub, actor)
    training = {
        "_id": new_id(),
        "hub_id": hub["_id"],
        "title": fields["title"].strip(),
        "topic": fields["topic"],
        "starts_at": to_utc(fields["starts_at"]),
        "capacity": fields["capacity"],
        "seats_left": fields["capacity"],
        "enrolled": [],
        "completed": [],
        "scheduled_by": actor["member_id"],
        "created_at": now or utcnow(),
    }
    record(
        training,
        TRAINING_SCHEDULED,
        {
            "training_id": training["_id"],
            "hub_id": hub["_id"],
            "title": training["title"],
            "topic": training["topic"],
            "starts_at": isoformat(training["starts_at"]),
            "capacity": training["capacity"],
        },
    )
    return training


def check_same_training(training: Document, fields: Mapping[str, Any]) -> None:
    """A retried scheduling finds the training it made; a different one at the
    same hub, title and time is a conflict."""
    if training["topic"] != fields["topic"] or training["capacity"] != fields["capacity"]:
        raise TrainingTaken(
            "This hub already has a training with this title at this time.",
            {"title": ["Taken at this starts_at; send another title or time."]},
        )


def check_can_enrol(training: Document, actor: Actor) -> None:
    if not is_member(actor, training["hub_id"]):
        raise NotAllowed("Only approved members of this hub may enrol in its trainings.")


def enrolment_events(training: Document, actor: Actor) -> list[OutboxEntry]:
    """The events of ``actor`` enrolling, an approved member of the training's hub."""
    check_can_enrol(training, actor)
    return [make_event(TRAINING_ENROLLED, _training_member_data(training, actor["member_id"]))]


def why_not_enrolled(training: Document, member_id: str) -> None:
    """Raise why the conditional enrolment did not take place."""
    if member_id in training["enrolled"]:
        raise AlreadyEnrolled(
            "You are already enrolled in this training.", {"member_id": ["Already enrolled."]}
        )
    if training["seats_left"] <= 0:
        raise TrainingFull(
            f"This training is full ({training['capacity']} seats).",
            {"capacity": [f"All {training['capacity']} seats are taken."]},
        )


def check_can_complete(training: Document, actor: Actor) -> None:
    require_coordinator(actor, training["hub_id"], "record completed trainings")


def completion_events(training: Document, actor: Actor, member_id: str) -> list[OutboxEntry]:
    """The events of a coordinator recording that ``member_id`` completed it."""
    check_can_complete(training, actor)
    return [make_event(TRAINING_COMPLETED, _training_member_data(training, member_id))]


def why_not_completed(training: Document, member_id: str) -> None:
    """Raise why the conditional completion did not take place; nothing when it
    already was completed (a retry)."""
    if member_id in training["completed"]:
        return
    if member_id not in training["enrolled"]:
        raise NotEnrolled(
            "This member is not enrolled in this training.",
            {"member_id": ["Not enrolled; they enrol first."]},
        )


def _training_member_data(training: Document, member_id: str) -> TrainingEnrolled:
    return {
        "training_id": training["_id"],
        "hub_id": training["hub_id"],
        "member_id": member_id,
        "title": training["title"],
    }
