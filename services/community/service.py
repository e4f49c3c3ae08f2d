import logging

from services.common.auth import Tokens, hash_password, verify_password
from services.common.envelope import utcnow
from services.common.errors import EXPECTED, Unauthenticated
from services.common.events import subscribe
from services.common.idempotency import Idempotency, check_key, idempotent
from services.common.periods import period_of
from services.common.rpc import rpc
from services.common.schemas import PageSchema, page_of
from services.common.service import HealthMixin
from services.common.storage import Storage
from services.community import channels, domain, otp, schemas
from services.community.bootstrap import AdminBootstrap
from services.community.exceptions import MemberNotFound, WrongCredentials
from services.community.repository import CommunityRepository
from services.messaging import contract as messaging
from services.orders import contract as orders

logger = logging.getLogger(__name__)


class CommunityService(HealthMixin):
    name = "community"

    store = Storage(CommunityRepository)
    idempotency = Idempotency()
    tokens = Tokens()
    admin = AdminBootstrap()

    @rpc(expected_exceptions=EXPECTED)
    def register(self, payload):
        """``register({"name": "Siti", "phone": "0812-3456-7890", "password": "…"})``
        → member. Emits ``member_registered``."""
        fields = schemas.RegisterSchema().load_or_raise(payload)
        member = domain.new_member(fields, hash_password(fields["password"]))
        self.store.add_member(member)
        return schemas.MemberSchema().dump(member)

    @rpc(expected_exceptions=EXPECTED)
    def register_by_phone(self, payload):
        """``register_by_phone({"phone": "+6281234567890", "name": "Siti", "language":
        "id"})`` → ``{"member", "created"}``: a member with no password (the SMS
        provider vouched for the phone), or the one already registered with that phone
        (``created: false``). Emits ``member_registered`` when created."""
        fields = schemas.RegisterByPhoneSchema().load_or_raise(payload)
        member, created = self.store.add_or_find_member(domain.new_member(fields, None))
        return schemas.RegisteredByPhoneSchema().dump({"member": member, "created": created})

    @rpc(expected_exceptions=EXPECTED)
    def actor_for_phone(self, phone):
        """``actor_for_phone("+6281234567890")`` → ``{"member": {"id", "name",
        "language", "phone"}, "actor": {"member_id", "is_admin", "roles"}}``, or
        ``None`` when no member has that phone."""
        number = domain.phone_or_none(phone)
        member = None if number is None else self.store.find_member_by_phone(number)
        if member is None:
            return None
        actor = self.store.roles_of(member)
        return schemas.PhoneMemberSchema().dump({"member": member, "actor": actor})

    @rpc(expected_exceptions=EXPECTED)
    def issue_token(self, payload, client_address=None):
        """``issue_token({"phone": "0812…", "password": "…"}, "203.0.113.7")`` →
        ``{"access_token", "token_type": "Bearer", "expires_in"}``; ``TooManyAttempts``
        while this phone and address, or this address, waits (see ``throttling``)."""
        credentials = schemas.TokenRequestSchema().load_or_raise(payload)
        phone = credentials["phone"]
        attempt = self.store.begin_login(phone, client_address)
        member = self.store.find_member_by_phone(phone)
        if member is None or not verify_password(
            member.get("password_hash"), credentials["password"]
        ):
            self.store.login_failed(phone)
            raise WrongCredentials("Wrong phone number or password.")
        self.store.login_succeeded(attempt)
        return {
            "access_token": self.tokens.issue(
                member["_id"], generation=member.get("token_generation", 0)
            ),
            "token_type": "Bearer",
            "expires_in": self.tokens.ttl,
        }

    @rpc(expected_exceptions=EXPECTED)
    def authenticate(self, access_token):
        """``authenticate(token)`` → actor ``{"member_id", "is_admin", "roles",
        "expires_in"}``; ``Unauthenticated`` when tampered with or expired."""
        claims = self.tokens.claims(access_token)
        try:
            member = self.store.get_member(claims["sub"])
        except MemberNotFound:
            raise Unauthenticated("This account no longer exists.") from None
        domain.check_token_current(member, claims["gen"])
        actor = schemas.ActorSchema().dump(self.store.roles_of(member))
        return {**actor, "expires_in": claims["left"]}

    @rpc(expected_exceptions=EXPECTED)
    def request_code(self, payload, idempotency_key=None):
        """``request_code({"phone": "0812…", "purpose": "reset_password"},
        idempotency_key="…")`` → ``{"accepted": True}`` whether or not a member has the
        phone; emits ``otp_issued`` (the SMS) only for a member's. ``CodeLimitReached``
        past 3 codes per phone per hour; the same key again sends nothing new."""
        fields, key = schemas.CodeRequestSchema().load_or_raise(payload), check_key(idempotency_key)
        phone, secret = fields["phone"], otp.code_key(self.tokens.secret)
        member, purpose = self.store.find_member_by_phone(phone), fields["purpose"]
        self.store.change_code(
            phone, lambda found: otp.issue(found, phone, purpose, member, secret, key)
        )
        return {"accepted": True}

    @rpc(expected_exceptions=EXPECTED)
    def reset_password(self, payload):
        """``reset_password({"phone": "0812…", "code": "042917", "new_password": "…"})``
        → ``{"reset": True, "member_id"}``: the password set, the code spent, the
        phone's login lockouts cleared, older tokens refused. ``WrongCode`` /
        ``CodeNotValid`` (400 naming ``code``) otherwise."""
        fields = schemas.PasswordResetSchema().load_or_raise(payload)
        phone, code, secret = fields["phone"], fields["code"], otp.code_key(self.tokens.secret)
        member = self.store.find_member_by_phone(phone)
        self.store.change_code(phone, lambda found: otp.redeem(found, phone, code, member, secret))
        password_hash = hash_password(fields["new_password"])  # slow: only for a right code
        member = self.store.set_password(
            member["_id"], password_hash, domain.password_reset_events(member)
        )
        self.store.clear_login_throttling(phone)
        return {"reset": True, "member_id": member["_id"]}

    @rpc(expected_exceptions=EXPECTED)
    def get_roles(self, member_id):
        """``get_roles(member_id)`` → ``{"member_id", "is_admin", "roles": {hub_id:
        ["buyer", "coordinator", "seller"]}}`` (approved memberships and coordinated
        hubs)."""
        return schemas.ActorSchema().dump(self.store.roles_of(self.store.get_member(member_id)))

    @rpc(expected_exceptions=EXPECTED)
    def get_profile(self, actor):
        """``get_profile(actor)`` → the caller's member record with memberships (and
        their hub), coordinated hubs and completed trainings."""
        return schemas.ProfileSchema().dump(self.store.profile(actor["member_id"]))

    @rpc(expected_exceptions=EXPECTED)
    @idempotent
    def update_profile(self, actor, payload):
        """``update_profile(actor, {"language": "en"})`` → member. Emits
        ``member_updated`` when something changed."""
        changes = schemas.UpdateProfileSchema().load_or_raise(payload)
        member = domain.update_profile(self.store.get_member(actor["member_id"]), changes)
        self.store.save_member(member)
        return schemas.MemberSchema().dump(member)

    # --- hubs ---------------------------------------------------------------

    @rpc(expected_exceptions=EXPECTED)
    @idempotent
    def create_hub(self, actor, payload):
        """``create_hub(admin, {"name": "Simpul Pujon", "village": "Pujon Kidul",
        "district": "Pujon", "regency": "Malang", "province": "Jawa Timur", "address":
        "Jl. …"})`` → hub. The same request again returns the same hub."""
        domain.check_can_create_hub(actor)
        fields = schemas.CreateHubSchema().load_or_raise(payload)
        hub = self.store.add_hub(domain.new_hub(fields, actor))
        domain.check_same_hub(hub, fields)
        return schemas.HubSchema().dump(hub)

    @rpc(expected_exceptions=EXPECTED)
    def list_hubs(self, query):
        """``list_hubs({"page": 1, "page_size": 20})`` → page of hubs by name."""
        page = PageSchema().load_or_raise(query)
        hubs, total = self.store.list_hubs(page["page"], page["page_size"])
        return page_of(schemas.HubSchema(many=True).dump(hubs), total=total, **page)

    @rpc(expected_exceptions=EXPECTED)
    def get_hub(self, hub_id):
        """``get_hub(hub_id)`` → hub (its slug works too)."""
        return schemas.HubSchema().dump(self.store.get_hub(hub_id))

    @rpc(expected_exceptions=EXPECTED)
    @idempotent
    def update_hub(self, actor, hub_id, payload):
        """``update_hub(coordinator, hub_id, {"commission_percent": 12, "bank_account":
        {"bank": "BRI", "number": "001201000123567", "holder": "Simpul Pujon"}})`` → hub.
        Emits ``hub_updated`` naming what changed (nothing when nothing did)."""
        hub = self.store.get_hub(hub_id)
        domain.check_can_change_hub(hub, actor)
        changes = schemas.UpdateHubSchema().load_or_raise(payload)
        self.store.save_hub(domain.change_hub(hub, actor, changes))
        return schemas.HubSchema().dump(hub)

    @rpc(expected_exceptions=EXPECTED)
    def network_members(self, actor, query):
        """``network_members(admin, {"from": "2026-11-01", "to": "2026-11-30"})`` →
        ``[{hub_id, name, district, members_by_role, trainings_held,
        trainings_completed}]``, one row per hub, counted by the store."""
        domain.check_can_see_network(actor)
        rows = self.store.network_members(*period_of(query))
        return schemas.HubMembersSchema(many=True).dump(rows)

    @rpc(expected_exceptions=EXPECTED)
    @idempotent
    def assign_coordinator(self, actor, hub_id, payload):
        """``assign_coordinator(admin, hub_id, {"member_id": "…"})`` → hub. Emits
        ``coordinator_assigned`` and ``roles_changed`` the first time."""
        domain.check_can_assign_coordinator(actor)
        member_id = schemas.AssignCoordinatorSchema().load_or_raise(payload)["member_id"]
        return self._change_coordinators(domain.assign_coordinator, actor, hub_id, member_id)

    @rpc(expected_exceptions=EXPECTED)
    @idempotent
    def remove_coordinator(self, actor, hub_id, member_id):
        """``remove_coordinator(admin, hub_id, member_id)`` → hub. Emits
        ``coordinator_removed`` and ``roles_changed`` when they were a coordinator."""
        domain.check_can_remove_coordinator(actor)
        return self._change_coordinators(domain.remove_coordinator, actor, hub_id, member_id)

    def _change_coordinators(self, change, actor, hub_id, member_id):
        hub = self.store.get_hub(hub_id)
        self.store.get_member(member_id)
        self.store.save_hub(change(hub, member_id, actor))
        return schemas.HubSchema().dump(hub)

    # --- memberships --------------------------------------------------------

    @rpc(expected_exceptions=EXPECTED)
    @idempotent
    def apply_for_membership(self, actor, hub_id, payload):
        """``apply_for_membership(actor, hub_id, {"role": "seller", "business_name":
        "Keripik Bu Siti"})`` → membership (``pending``). Applying again for the same
        hub and role returns the existing membership, whatever its status."""
        fields = schemas.ApplySchema().load_or_raise(payload)
        hub = self.store.get_hub(hub_id)
        membership = domain.new_membership(actor["member_id"], hub, fields)
        return schemas.MembershipSchema().dump(self.store.add_membership(membership))

    @rpc(expected_exceptions=EXPECTED)
    def list_memberships(self, actor, hub_id, query):
        """``list_memberships(coordinator, hub_id, {"status": "pending"})`` → page of
        memberships, oldest first, each with ``member: {id, name, phone}``."""
        hub = domain.check_can_list_memberships(self.store.get_hub(hub_id), actor)
        params = schemas.MembershipQuerySchema().load_or_raise(query)
        page = {"page": params.pop("page"), "page_size": params.pop("page_size")}
        items, total = self.store.list_memberships(hub["_id"], params, **page)
        return page_of(schemas.MembershipSchema(many=True).dump(items), total=total, **page)

    @rpc(expected_exceptions=EXPECTED)
    @idempotent
    def approve_membership(self, actor, membership_id, payload=None):
        """``approve_membership(coordinator, membership_id, {})`` → membership. Emits
        ``membership_approved`` and ``roles_changed``."""
        return self._decide(actor, membership_id, "approve", schemas.ApproveSchema, payload)

    @rpc(expected_exceptions=EXPECTED)
    @idempotent
    def reject_membership(self, actor, membership_id, payload):
        """``reject_membership(coordinator, membership_id, {"reason": "…"})`` →
        membership. Emits ``membership_rejected``."""
        return self._decide(actor, membership_id, "reject", schemas.DecisionSchema, payload)

    @rpc(expected_exceptions=EXPECTED)
    @idempotent
    def suspend_membership(self, actor, membership_id, payload):
        """``suspend_membership(coordinator, membership_id, {"reason": "…"})`` →
        membership. Emits ``membership_suspended`` and ``roles_changed``."""
        return self._decide(actor, membership_id, "suspend", schemas.DecisionSchema, payload)

    def _decide(self, actor, membership_id, verb, schema, payload):
        membership = self.store.get_membership(membership_id)
        # who may decide is answered before what they sent
        domain.check_can_decide(membership, actor, verb)
        reason = schema().load_or_raise(payload).get("reason")
        self.store.save_membership(domain.decide(membership, actor, verb, reason))
        return schemas.MembershipSchema().dump(membership)

    # --- trainings ----------------------------------------------------------

    @rpc(expected_exceptions=EXPECTED)
    @idempotent
    def schedule_training(self, actor, hub_id, payload):
        """``schedule_training(coordinator, hub_id, {"title": "Foto produk", "topic":
        "product_photography", "starts_at": "2026-12-01T02:00:00Z", "capacity": 20})``
        → training. The same request again returns the same training."""
        hub = self.store.get_hub(hub_id)
        domain.check_can_schedule_training(hub, actor)
        fields = schemas.ScheduleTrainingSchema().load_or_raise(payload)
        training = self.store.add_training(domain.new_training(hub, fields, actor))
        domain.check_same_training(training, fields)
        return schemas.TrainingSchema().dump(training)

    @rpc(expected_exceptions=EXPECTED)
    def list_trainings(self, hub_id, query):
        """``list_trainings(hub_id, {"page": 1})`` → page of trainings by start time."""
        hub = self.store.get_hub(hub_id)
        page = PageSchema().load_or_raise(query)
        items, total = self.store.list_trainings(hub["_id"], page["page"], page["page_size"])
        return page_of(schemas.TrainingSchema(many=True).dump(items), total=total, **page)

    @rpc(expected_exceptions=EXPECTED)
    @idempotent
    def enrol(self, actor, training_id):
        """``enrol(member, training_id)`` → training (one seat fewer). ``Conflict``
        when full or already enrolled. Emits ``training_enrolled``."""
        training = self.store.get_training(training_id)
        events = domain.enrolment_events(training, actor)
        member_id = actor["member_id"]
        enrolled = self.store.enrol(training["_id"], member_id, events)
        if enrolled is None:
            domain.why_not_enrolled(self.store.get_training(training_id), member_id)
        return schemas.TrainingSchema().dump(enrolled or self.store.get_training(training_id))

    @rpc(expected_exceptions=EXPECTED)
    @idempotent
    def complete_training(self, actor, training_id, payload):
        """``complete_training(coordinator, training_id, {"member_id": "…"})`` →
        training. Emits ``training_completed`` the first time."""
        training = self.store.get_training(training_id)
        domain.check_can_complete(training, actor)
        member_id = schemas.CompletionSchema().load_or_raise(payload)["member_id"]
        self.store.get_member(member_id)
        events = domain.completion_events(training, actor, member_id)
        completed = self.store.complete(training["_id"], member_id, events)
        if completed is None:
            domain.why_not_completed(self.store.get_training(training_id), member_id)
        return schemas.TrainingSchema().dump(completed or self.store.get_training(training_id))

    # --- channels: agents, groups, contacts, broadcasts (DESIGN §9) ------------------

    @rpc(expected_exceptions=EXPECTED)
    @idempotent
    def appoint_agent(self, actor, hub_id, payload):
        """``appoint_agent(coordinator, hub_id, {"member_id": "…", "commission_percent":
        3})`` → agent. Emits ``agent_appointed`` and ``roles_changed``."""
        hub = self.store.get_hub(hub_id)
        channels.check_can_appoint_agent(hub, actor)
        fields = schemas.AppointAgentSchema().load_or_raise(payload)
        is_member = self.store.is_member_of(hub["_id"], fields["member_id"])
        agent = self.store.add_agent(channels.new_agent(hub, fields, is_member, actor))
        return schemas.AgentSchema().dump(agent)

    @rpc(expected_exceptions=EXPECTED)
    def list_agents(self, actor, hub_id, query):
        """``list_agents(coordinator, hub_id, {"page": 1})`` → page of the hub's agents,
        first appointed first."""
        hub = self.store.get_hub(hub_id)
        channels.check_can_list_agents(hub, actor)
        page = PageSchema().load_or_raise(query)
        items, total = self.store.list_agents(hub["_id"], page["page"], page["page_size"])
        return page_of(schemas.AgentSchema(many=True).dump(items), total=total, **page)

    @rpc(expected_exceptions=EXPECTED)
    @idempotent
    def create_group(self, actor, hub_id, payload):
        """``create_group(coordinator, hub_id, {"name": "Majelis Taklim Al-Hidayah",
        "kind": "majelis_taklim", "agent_id": "…"})`` → group. The same request again
        returns the same group."""
        hub = self.store.get_hub(hub_id)
        channels.check_can_create_group(hub, actor)
        fields = schemas.CreateGroupSchema().load_or_raise(payload)
        agent = None if fields["agent_id"] is None else self.store.find_agent(fields["agent_id"])
        group = self.store.add_group(channels.new_group(hub, fields, agent, actor))
        channels.check_same_group(group, fields)
        return schemas.GroupSchema().dump(group)

    @rpc(expected_exceptions=EXPECTED)
    def list_groups(self, actor, hub_id, query):
        """``list_groups(actor, hub_id, {"page": 1})`` → page of groups by name: all of
        the hub's for its coordinator, an agent's own for an agent."""
        hub = self.store.get_hub(hub_id)
        visible = channels.groups_visible(hub, actor)
        page = PageSchema().load_or_raise(query)
        items, total = self.store.list_groups(hub["_id"], visible, page["page"], page["page_size"])
        return page_of(schemas.GroupSchema(many=True).dump(items), total=total, **page)

    @rpc(expected_exceptions=EXPECTED)
    def get_group(self, actor, group_id):
        """``get_group(actor, group_id)`` → group, for the hub's coordinator or its agent."""
        group = self.store.get_group(group_id)
        channels.check_can_use_group(group, actor)
        return schemas.GroupSchema().dump(group)

    @rpc(expected_exceptions=EXPECTED)
    @idempotent
    def add_contact(self, actor, group_id, payload):
        """``add_contact(agent, group_id, {"phone": "0812-…", "name": "Bu Aminah"})`` →
        ``{"contact", "created"}``; the same phone again → the contact it is, ``created:
        false``. Emits ``contact_added`` for a new contact only."""
        group = self.store.find_group(group_id)
        channels.check_can_use_group(group, actor)
        fields = schemas.AddContactSchema().load_or_raise(payload)
        hub, adder = self.store.get_hub(group["hub_id"]), self.store.get_member(actor["member_id"])
        contact = channels.new_contact(group, hub, fields, adder, actor)
        added, created = self.store.add_contact(contact)
        return schemas.AddedContactSchema().dump({"contact": added, "created": created})

    @rpc(expected_exceptions=EXPECTED)
    def list_contacts(self, actor, group_id, query):
        """``list_contacts(agent, group_id, {"page": 1})`` → page of contacts, first
        added first, each with ``opted_out``."""
        group = self.store.find_group(group_id)
        channels.check_can_use_group(group, actor)
        page = PageSchema().load_or_raise(query)
        items, total = self.store.list_contacts(group["_id"], page["page"], page["page_size"])
        return page_of(schemas.ContactSchema(many=True).dump(items), total=total, **page)

    @rpc(expected_exceptions=EXPECTED)
    @idempotent
    def start_broadcast(self, actor, group_id, products, idempotency_key=None):
        """``start_broadcast(agent, group_id, [{"id", "code", "name", "price", "hub_id"}],
        idempotency_key="…")`` → broadcast. One per group per WIB day; emits
        ``broadcast_requested`` with every contact, in the broadcast's own write."""
        group = self.store.find_group(group_id)
        channels.check_can_use_group(group, actor)
        loaded = schemas.BroadcastProductsSchema().load_or_raise({"products": products})
        hub, contacts = self.store.get_hub(group["hub_id"]), self.store.all_contacts(group["_id"])
        broadcast = channels.new_broadcast(
            group, hub, loaded["products"], contacts, actor, idempotency_key
        )
        return schemas.BroadcastSchema().dump(self.store.add_broadcast(broadcast))

    @rpc(expected_exceptions=EXPECTED)
    def get_broadcast(self, actor, broadcast_id):
        """``get_broadcast(agent, broadcast_id)`` → broadcast, with the orders placed in
        reply to it; for the hub's coordinator or the group's agent."""
        broadcast = self.store.get_broadcast(broadcast_id)
        channels.check_can_use_group(self.store.find_group(broadcast["group_id"]), actor)
        return schemas.BroadcastSchema().dump(broadcast)

    @rpc(expected_exceptions=EXPECTED)
    def broadcast_for_reply(self, phone, product_ids):
        """``broadcast_for_reply("+62812…", ["p1", "p2"])`` → the id of the newest
        broadcast of the last 7 days to a group with that phone as a contact that named
        one of the products, or ``None``."""
        number = domain.phone_or_none(phone)
        if number is None or not isinstance(product_ids, list):
            return None
        since = utcnow() - channels.REPLY_WINDOW
        return self.store.broadcast_for_reply(number, [str(p) for p in product_ids], since)

    @subscribe("messaging", messaging.BROADCAST_CONSENT_CHANGED)
    def handle_broadcast_consent_changed(self, event):
        self.store.save_consent(event["data"], event["occurred_at"])

    @subscribe("orders", orders.ORDER_PLACED)
    def handle_order_placed(self, event):
        data = event["data"]
        broadcast_id = data.get("broadcast_id")
        if broadcast_id and not self.store.count_order(broadcast_id, data["order_id"]):
            logger.warning("%s names an unknown broadcast; ignored", event["event_id"])
