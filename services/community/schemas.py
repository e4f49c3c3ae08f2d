"""Community's requests and responses, for its service and for the gateway."""

import datetime

from marshmallow import ValidationError, fields, validate, validates_schema

from services.common.schemas import (
    TEXT_CHAR,
    TEXT_ERRORS,
    FlatSchema,
    MobilePhone,
    PageSchema,
    Phone,
    Schema,
    Timestamp,
    bounded_integer,
    choice,
    representable_in_utc,
    text,
)
from services.community.contract import (
    CHANNELS,
    DEFAULT_COMMISSION_PERCENT,
    GROUP_KINDS,
    LANGUAGES,
    MAX_BROADCAST_PRODUCTS,
    MAX_COMMISSION_PERCENT,
    MEMBER_ROLES,
    MEMBERSHIP_STATUSES,
    OTP_PURPOSES,
    SELLER,
    TRAINING_TOPICS,
)


def _email(**kwargs):
    return fields.Email(
        validate=validate.Length(max=254),
        error_messages={"invalid": "Send an email address like nama@contoh.id."},
        **kwargs,
    )


def _password(**kwargs):
    return fields.String(
        validate=validate.Length(min=8, max=128, error="Send {min} to {max} characters."),
        error_messages=TEXT_ERRORS,
        load_only=True,
        **kwargs,
    )


class RegisterSchema(Schema):
    name = text(100, required=True)
    phone = Phone(required=True, error_messages=TEXT_ERRORS)
    password = _password(required=True)
    email = _email(load_default=None, allow_none=True)
    preferred_channel = choice(CHANNELS)
    language = choice(LANGUAGES)


class RegisterByPhoneSchema(Schema):
    """A member registered by text message: the provider vouches for the phone, and
    there is no password until they set one with a one-time code."""

    name = text(100, required=True)
    phone = Phone(required=True, error_messages=TEXT_ERRORS)
    language = choice(LANGUAGES)


class TokenRequestSchema(Schema):
    phone = Phone(required=True, error_messages=TEXT_ERRORS)
    password = fields.String(
        required=True, load_only=True, error_messages=TEXT_ERRORS, validate=validate.Length(max=128)
    )


class CodeRequestSchema(Schema):
    phone = Phone(required=True, error_messages=TEXT_ERRORS)
    purpose = choice(OTP_PURPOSES, required=True)


class CodeAcceptedSchema(Schema):
    accepted = fields.Boolean()


class PasswordResetSchema(Schema):
    phone = Phone(required=True, error_messages=TEXT_ERRORS)
    code = fields.String(
        required=True,
        load_only=True,
        validate=validate.Regexp(r"^[0-9]{6}$", error="Send the 6 digits of the code."),
        error_messages={**TEXT_ERRORS, "required": "Required; send the 6-digit code from the SMS."},
    )
    new_password = _password(required=True)


class PasswordResetDoneSchema(Schema):
    reset = fields.Boolean()
    member_id = fields.String()


class UpdateProfileSchema(Schema):
    name = text(100)
    email = _email(allow_none=True)
    preferred_channel = choice(CHANNELS)
    language = choice(LANGUAGES)


class TokenSchema(Schema):
    access_token = fields.String()
    token_type = fields.String()
    expires_in = fields.Integer()


class MemberSchema(Schema):
    id = fields.String(attribute="_id")
    name = fields.String()
    phone = fields.String()
    email = fields.String(allow_none=True)
    preferred_channel = fields.String()
    language = fields.String()
    is_admin = fields.Boolean()
    created_at = Timestamp()


class ActorSchema(Schema):
    member_id = fields.String()
    is_admin = fields.Boolean()
    roles = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))


class PhoneMemberSchema(Schema):
    """Who sent a text message: the member and the actor they act as."""

    member = fields.Nested(MemberSchema(only=("id", "name", "language", "phone")))
    actor = fields.Nested(ActorSchema)


class RegisteredByPhoneSchema(Schema):
    member = fields.Nested(MemberSchema)
    created = fields.Boolean()


# --- hubs, memberships, trainings --------------------------------------------


def _place(**kwargs):
    return text(100, required=True, **kwargs)


# the name makes the hub's slug, its natural key: it needs a letter or digit
HUB_NAME = validate.Regexp(
    f"^{TEXT_CHAR}*?[A-Za-z0-9]{TEXT_CHAR}*$",
    error="Send a name with letters or digits (A-Z, 0-9) and no control characters.",
)


class CreateHubSchema(Schema):
    name = text(100, HUB_NAME, required=True)
    village = _place()
    district = _place()
    regency = _place()
    province = _place()
    address = text(300, required=True)


ACCOUNT_NUMBER = r"^[0-9]{6,20}$"
MAX_BANK_NAME = 40
MAX_HOLDER = 100


class BankAccountSchema(Schema):
    bank = text(MAX_BANK_NAME, required=True, metadata={"example": "BRI"})
    number = fields.String(
        required=True,
        validate=validate.Regexp(
            ACCOUNT_NUMBER,
            error="Send the account number as 6 to 20 digits, without letters, spaces or dashes.",
        ),
        error_messages={
            "invalid": "Send the account number as text of 6 to 20 digits.",
            "required": "Required; send the account number (6 to 20 digits).",
        },
        metadata={"example": "001201000123567"},
    )
    holder = text(MAX_HOLDER, required=True, metadata={"description": "The name on the account."})


class UpdateHubSchema(FlatSchema):
    commission_percent = bounded_integer(
        0,
        MAX_COMMISSION_PERCENT,
        strict=True,
        metadata={"description": "The hub's share of each sale, whole percent."},
    )
    bank_account = fields.Nested(
        BankAccountSchema,
        allow_none=True,
        metadata={"description": "Where buyers pay by bank transfer; null removes it."},
    )

    OPENAPI_EXTRA = {"minProperties": 1}  # for the API document: what something_to_change checks

    @validates_schema
    def something_to_change(self, data, **kwargs):
        if not data:
            raise ValidationError(
                "Send commission_percent, bank_account or both.", "commission_percent"
            )


class HubSchema(Schema):
    id = fields.String(attribute="_id")
    name = fields.String()
    slug = fields.String()
    village = fields.String()
    district = fields.String()
    regency = fields.String()
    province = fields.String()
    address = fields.String()
    coordinator_ids = fields.List(fields.String())
    commission_percent = fields.Integer(dump_default=DEFAULT_COMMISSION_PERCENT)
    bank_account = fields.Nested(BankAccountSchema, allow_none=True, dump_default=None)
    created_at = Timestamp()


class HubSummarySchema(HubSchema):
    """A hub named where it comes up in a member's profile."""

    class Meta(Schema.Meta):
        fields = ("id", "name", "slug")


class AssignCoordinatorSchema(Schema):
    member_id = text(64, required=True)


class ApplySchema(Schema):
    role = choice(MEMBER_ROLES, required=True)
    business_name = text(100, allow_none=True)

    # for the API document: what ``sellers_name_their_business`` checks
    OPENAPI_EXTRA = {
        "anyOf": [
            {"properties": {"role": {"enum": [r for r in MEMBER_ROLES if r != SELLER]}}},
            {"required": ["business_name"], "properties": {"business_name": {"type": "string"}}},
        ]
    }

    @validates_schema
    def sellers_name_their_business(self, data, **kwargs):
        if data.get("role") == SELLER and not (data.get("business_name") or "").strip():
            raise ValidationError(
                "Required for sellers; send the name your products are sold under.",
                "business_name",
            )


class ApproveSchema(Schema):
    """No fields: ``{}`` or an empty body."""


class DecisionSchema(Schema):
    reason = text(500, required=True)


class MembershipQuerySchema(PageSchema):
    status = choice(MEMBERSHIP_STATUSES)
    role = choice(MEMBER_ROLES)


class MemberContactSchema(MemberSchema):
    """A member as the coordinator deciding their membership sees them."""

    class Meta(Schema.Meta):
        fields = ("id", "name", "phone")


class MembershipSchema(Schema):
    id = fields.String(attribute="_id")
    hub_id = fields.String()
    member_id = fields.String()
    role = fields.String()
    business_name = fields.String(allow_none=True)
    status = fields.String()
    reason = fields.String(allow_none=True)
    decided_by = fields.String(allow_none=True)
    decided_at = Timestamp(allow_none=True)
    created_at = Timestamp()
    member = fields.Nested(MemberContactSchema)


class OwnMembershipSchema(MembershipSchema):
    """A membership on its member's profile, with its hub."""

    hub = fields.Nested(HubSummarySchema)

    class Meta(Schema.Meta):
        exclude = ("member",)


class ScheduleTrainingSchema(Schema):
    title = text(150, required=True)
    topic = choice(TRAINING_TOPICS, required=True)
    starts_at = fields.AwareDateTime(
        default_timezone=datetime.UTC,
        required=True,
        validate=representable_in_utc,
        error_messages={
            "invalid": "Send an ISO 8601 time like 2026-12-01T09:00:00Z.",
            "required": "Required; send a time like 2026-12-01T09:00:00Z.",
        },
    )
    capacity = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=1, max=1000, error="Send a whole number from 1 to 1000."),
        error_messages={"invalid": "Send a whole number from 1 to 1000."},
    )


class TrainingSchema(Schema):
    id = fields.String(attribute="_id")
    hub_id = fields.String()
    title = fields.String()
    topic = fields.String()
    starts_at = Timestamp()
    capacity = fields.Integer()
    seats_left = fields.Integer()
    enrolled_count = fields.Function(lambda training: len(training.get("enrolled", ())))
    created_at = Timestamp()


class CompletedTrainingSchema(TrainingSchema):
    """A training on the profile of a member who completed it: what and when."""

    class Meta(Schema.Meta):
        fields = ("id", "hub_id", "title", "topic", "starts_at")


class CompletionSchema(Schema):
    member_id = text(64, required=True)


class ProfileSchema(MemberSchema):
    memberships = fields.List(fields.Nested(OwnMembershipSchema))
    coordinated_hubs = fields.List(fields.Nested(HubSummarySchema))
    completed_trainings = fields.List(fields.Nested(CompletedTrainingSchema))


class HubMembersSchema(Schema):
    """One hub's row of the network report: its people and its trainings."""

    hub_id = fields.String()
    name = fields.String()
    district = fields.String()
    members_by_role = fields.Dict(keys=fields.String(), values=fields.Integer())
    trainings_held = fields.Integer()
    trainings_completed = fields.Integer()


# --- channels: agents, groups, contacts, broadcasts (DESIGN §9) --------------------

MAX_ID = 64
MAX_CONTACT_NAME = 80


class AppointAgentSchema(Schema):
    member_id = text(MAX_ID, required=True)
    commission_percent = bounded_integer(
        0,
        MAX_COMMISSION_PERCENT,
        strict=True,
        required=True,
        metadata={
            "description": "The agent's share of each sale they bring, whole percent: at "
            "most the hub's commission_percent, from which it is taken."
        },
    )


class AgentSchema(Schema):
    id = fields.String(attribute="_id")
    hub_id = fields.String()
    member_id = fields.String()
    commission_percent = fields.Integer()
    appointed_at = Timestamp()


class CreateGroupSchema(Schema):
    name = text(100, required=True)
    kind = choice(GROUP_KINDS, required=True)
    agent_id = text(
        MAX_ID,
        allow_none=True,
        load_default=None,
        metadata={"description": "An agent of this hub who runs the group (optional)."},
    )


class GroupSchema(Schema):
    id = fields.String(attribute="_id")
    hub_id = fields.String()
    name = fields.String()
    kind = fields.String()
    agent_id = fields.String(allow_none=True)
    contacts = fields.Integer(metadata={"description": "How many contacts the group has."})
    created_at = Timestamp()


class AddContactSchema(Schema):
    phone = MobilePhone(required=True, error_messages=TEXT_ERRORS)
    name = text(MAX_CONTACT_NAME, allow_none=True, load_default=None)


class ContactSchema(Schema):
    phone = fields.String()
    name = fields.String(allow_none=True)
    opted_out = fields.Boolean(
        metadata={"description": "The phone sent BERHENTI (and not MULAI since): no broadcasts."}
    )
    added_at = Timestamp()


class AddedContactSchema(Schema):
    """A contact added, or the one the group already had with that phone (``created:
    false``)."""

    contact = fields.Nested(ContactSchema)
    created = fields.Boolean()


class StartBroadcastSchema(Schema):
    product_ids = fields.List(
        text(MAX_ID),
        required=True,
        validate=validate.Length(
            min=1,
            max=MAX_BROADCAST_PRODUCTS,
            error="Send {min} to {max} product ids, so the message fits one SMS.",
        ),
        metadata={"description": "Approved products of the group's hub, each once."},
    )

    @validates_schema
    def each_product_once(self, data, **kwargs):
        product_ids = data.get("product_ids") or []
        if len(set(product_ids)) != len(product_ids):
            raise ValidationError("Send each product id once.", "product_ids")


class BroadcastProductSchema(Schema):
    id = text(MAX_ID, required=True)
    code = fields.String(required=True, allow_none=True)
    name = fields.String(required=True)
    price = fields.Integer(required=True, strict=True)
    hub_id = fields.String(required=True)


class BroadcastProductsSchema(Schema):
    """What ``start_broadcast`` gets from the gateway: the products it resolved."""

    products = fields.List(
        fields.Nested(BroadcastProductSchema),
        required=True,
        validate=validate.Length(
            min=1,
            max=MAX_BROADCAST_PRODUCTS,
            error="Send {min} to {max} products, so the message fits one SMS.",
        ),
    )


class BroadcastSchema(Schema):
    id = fields.String(attribute="_id")
    hub_id = fields.String()
    group_id = fields.String()
    product_ids = fields.List(fields.String())
    products = fields.List(fields.Nested(BroadcastProductSchema))
    contacts = fields.Integer(metadata={"description": "The group's contacts when it started."})
    requested_by = fields.String()
    created_at = Timestamp()
    day = fields.String(metadata={"description": "The day (WIB) it was sent on."})
    orders = fields.Integer(metadata={"description": "Orders placed in reply to it."})
