from nameko.rpc import rpc

from services.common.auth import Tokens, hash_password, verify_password
from services.common.errors import EXPECTED, Unauthenticated
from services.common.service import HealthMixin
from services.common.storage import Storage
from services.community import domain
from services.community.bootstrap import AdminBootstrap
from services.community.exceptions import MemberNotFound, WrongCredentials
from services.community.repository import CommunityRepository
from services.community.schemas import (
    ActorSchema,
    MemberSchema,
    RegisterSchema,
    TokenRequestSchema,
    UpdateProfileSchema,
)


class CommunityService(HealthMixin):
    name = "community"

    store = Storage(CommunityRepository)
    tokens = Tokens()
    admin = AdminBootstrap()

    @rpc(expected_exceptions=EXPECTED)
    def register(self, payload):
        """``register({"name": "Siti", "phone": "0812-3456-7890", "password": "…"})``
        → member. Emits ``member_registered``."""
        fields = RegisterSchema().load_or_raise(payload)
        member = domain.new_member(fields, hash_password(fields["password"]))
        self.store.add_member(member)
        return MemberSchema().dump(member)

    @rpc(expected_exceptions=EXPECTED)
    def issue_token(self, payload):
        """``issue_token({"phone": "0812…", "password": "…"})`` →
        ``{"access_token", "token_type": "Bearer", "expires_in"}``."""
        credentials = TokenRequestSchema().load_or_raise(payload)
        phone = credentials["phone"]
        domain.check_not_locked(self.store.login_attempts(phone))
        member = self.store.find_member_by_phone(phone)
        if member is None or not verify_password(member["password_hash"], credentials["password"]):
            self.store.record_login_failure(phone)
            raise WrongCredentials("Wrong phone number or password.")
        self.store.clear_login_failures(phone)
        return {
            "access_token": self.tokens.issue(member["_id"]),
            "token_type": "Bearer",
            "expires_in": self.tokens.ttl,
        }

    @rpc(expected_exceptions=EXPECTED)
    def authenticate(self, access_token):
        """``authenticate(token)`` → actor ``{"member_id", "is_admin", "roles",
        "expires_in"}``; ``Unauthenticated`` when tampered with or expired."""
        member_id, expires_in = self.tokens.verify(access_token)
        try:
            member = self.store.get_member(member_id)
        except MemberNotFound:
            raise Unauthenticated("This account no longer exists.") from None
        return {**ActorSchema().dump(domain.actor(member)), "expires_in": expires_in}

    @rpc(expected_exceptions=EXPECTED)
    def get_roles(self, member_id):
        """``get_roles(member_id)`` → ``{"member_id", "is_admin", "roles": {hub_id:
        ["coordinator", "seller", "buyer"]}}``."""
        member = self.store.get_member(member_id)
        return ActorSchema().dump(domain.actor(member))

    @rpc(expected_exceptions=EXPECTED)
    def get_profile(self, actor):
        """``get_profile(actor)`` → the caller's member record."""
        return MemberSchema().dump(self.store.get_member(actor["member_id"]))

    @rpc(expected_exceptions=EXPECTED)
    def update_profile(self, actor, payload):
        """``update_profile(actor, {"language": "en"})`` → member. Emits
        ``member_updated`` when something changed."""
        changes = UpdateProfileSchema().load_or_raise(payload)
        member = domain.update_profile(self.store.get_member(actor["member_id"]), changes)
        self.store.save_member(member)
        return MemberSchema().dump(member)
