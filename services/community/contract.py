"""What community promises to the outside: the values its requests and responses use,
and the events it publishes with the fields of each one's ``data``.

The gateway and the other services read community through this module and
``schemas.py`` only, so it imports nothing of community's internals; docs/events.md
describes the same events for people, and a test keeps the two in step.
"""

from typing import TypedDict

from services.common.actor import BUYER as BUYER
from services.common.actor import MEMBER_ROLES as MEMBER_ROLES
from services.common.actor import SELLER as SELLER
from services.common.commission import DEFAULT_COMMISSION_PERCENT as DEFAULT_COMMISSION_PERCENT
from services.common.commission import MAX_COMMISSION_PERCENT as MAX_COMMISSION_PERCENT

CHANNELS = ("sms", "whatsapp", "email")
DEFAULT_CHANNEL = "sms"
LANGUAGES = ("id", "en")
DEFAULT_LANGUAGE = "id"

PENDING = "pending"
APPROVED = "approved"
REJECTED = "rejected"
SUSPENDED = "suspended"
MEMBERSHIP_STATUSES = (PENDING, APPROVED, REJECTED, SUSPENDED)

RESET_PASSWORD = "reset_password"
OTP_PURPOSES = (RESET_PASSWORD,)
"""What a one-time code may be asked for."""
OTP_VALID_MINUTES = 10
"""How long a one-time code works after it was issued."""

TRAINING_TOPICS = (
    "digital_marketing",
    "product_photography",
    "packaging",
    "bookkeeping",
    "food_safety",
    "other",
)


# --- events (``community.events``) -------------------------------------------------

MEMBER_REGISTERED = "member_registered"
MEMBER_UPDATED = "member_updated"
HUB_CREATED = "hub_created"
HUB_UPDATED = "hub_updated"
COORDINATOR_ASSIGNED = "coordinator_assigned"
COORDINATOR_REMOVED = "coordinator_removed"
MEMBERSHIP_REQUESTED = "membership_requested"
MEMBERSHIP_APPROVED = "membership_approved"
MEMBERSHIP_REJECTED = "membership_rejected"
MEMBERSHIP_SUSPENDED = "membership_suspended"
TRAINING_SCHEDULED = "training_scheduled"
TRAINING_ENROLLED = "training_enrolled"
TRAINING_COMPLETED = "training_completed"
ROLES_CHANGED = "roles_changed"
OTP_ISSUED = "otp_issued"
AGENT_APPOINTED = "agent_appointed"
CONTACT_ADDED = "contact_added"
BROADCAST_REQUESTED = "broadcast_requested"

GROUP_KINDS = ("jamaah", "majelis_taklim", "ranting", "other")
"""What a congregation group is (DESIGN §9)."""
MAX_BROADCAST_PRODUCTS = 3
"""A broadcast names at most this many products, so its message fits one SMS."""


class MemberRegistered(TypedDict):
    """A member's contact: what other services may know of them."""

    member_id: str
    name: str
    phone: str
    email: str | None
    preferred_channel: str
    language: str


class MemberUpdated(MemberRegistered):
    changed: list[str]


class BankAccount(TypedDict):
    """Where buyers pay a hub by bank transfer."""

    bank: str
    number: str  # digits only
    holder: str


class HubCreated(TypedDict):
    hub_id: str
    name: str
    slug: str
    village: str
    district: str
    regency: str
    province: str
    address: str
    commission_percent: int
    bank_account: BankAccount | None


class HubUpdated(TypedDict):
    """The hub's money settings changed (``changed``: which of them)."""

    hub_id: str
    name: str
    commission_percent: int
    bank_account: BankAccount | None
    changed: list[str]


class CoordinatorAssigned(TypedDict):
    hub_id: str
    member_id: str


class CoordinatorRemoved(TypedDict):
    hub_id: str
    member_id: str
    removed_by: str


class _Membership(TypedDict):
    membership_id: str
    hub_id: str
    member_id: str
    role: str


class MembershipRequested(_Membership):
    business_name: str | None


class MembershipApproved(_Membership):
    business_name: str | None
    decided_by: str


class MembershipRejected(_Membership):
    reason: str
    decided_by: str


class MembershipSuspended(_Membership):
    reason: str
    decided_by: str


class TrainingScheduled(TypedDict):
    training_id: str
    hub_id: str
    title: str
    topic: str
    starts_at: str
    capacity: int


class TrainingEnrolled(TypedDict):
    training_id: str
    hub_id: str
    member_id: str
    title: str


class TrainingCompleted(TrainingEnrolled):
    pass


class RolesChanged(TypedDict):
    member_id: str


class OtpIssued(TypedDict):
    """A one-time code for the member at ``phone``, in plain: the SMS needs it. Never
    logged, never stored by its consumers beyond sending it."""

    member_id: str
    phone: str
    code: str
    purpose: str
    expires_at: str
    language: str


class AgentAppointed(TypedDict):
    agent_id: str
    hub_id: str
    member_id: str
    commission_percent: int
    appointed_by: str


class ContactAdded(TypedDict):
    """A phone new to a group: told once who added it and how to stop broadcasts."""

    group_id: str
    group_name: str
    hub_id: str
    hub_name: str
    phone: str
    name: str | None
    added_by_name: str


class BroadcastProduct(TypedDict):
    id: str
    code: str
    name: str
    price: int


class BroadcastRecipient(TypedDict):
    phone: str
    name: str | None


class BroadcastRequested(TypedDict):
    """Every contact of the group when the broadcast was asked for; whether each still
    wants broadcasts is checked when its message is sent."""

    broadcast_id: str
    hub_id: str
    hub_name: str
    group_id: str
    group_name: str
    products: list[BroadcastProduct]
    recipients: list[BroadcastRecipient]


EVENTS: dict[str, type] = {
    MEMBER_REGISTERED: MemberRegistered,
    MEMBER_UPDATED: MemberUpdated,
    HUB_CREATED: HubCreated,
    HUB_UPDATED: HubUpdated,
    COORDINATOR_ASSIGNED: CoordinatorAssigned,
    COORDINATOR_REMOVED: CoordinatorRemoved,
    MEMBERSHIP_REQUESTED: MembershipRequested,
    MEMBERSHIP_APPROVED: MembershipApproved,
    MEMBERSHIP_REJECTED: MembershipRejected,
    MEMBERSHIP_SUSPENDED: MembershipSuspended,
    TRAINING_SCHEDULED: TrainingScheduled,
    TRAINING_ENROLLED: TrainingEnrolled,
    TRAINING_COMPLETED: TrainingCompleted,
    ROLES_CHANGED: RolesChanged,
    OTP_ISSUED: OtpIssued,
    AGENT_APPOINTED: AgentAppointed,
    CONTACT_ADDED: ContactAdded,
    BROADCAST_REQUESTED: BroadcastRequested,
}
"""Every event community publishes, with the shape of its ``data``."""
