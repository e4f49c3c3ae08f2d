"""Members: registration, login, profile (DESIGN §3, community rows)."""

from services.community.schemas import (
    MemberSchema,
    RegisterSchema,
    TokenRequestSchema,
    TokenSchema,
    UpdateProfileSchema,
)
from services.gateway.http import json_body, route


class CommunityRoutes:
    @route(
        "POST",
        "/api/v1/auth/register",
        body=RegisterSchema,
        response=MemberSchema,
        status=201,
        summary="Register a member",
    )
    def register(self, request):
        return 201, self.backend.community.register(json_body(request))

    @route(
        "POST",
        "/api/v1/auth/token",
        body=TokenRequestSchema,
        response=TokenSchema,
        summary="Log in: trade phone and password for an access token",
    )
    def issue_token(self, request):
        return self.backend.community.issue_token(json_body(request))

    @route("GET", "/api/v1/me", response=MemberSchema, auth=True, summary="The caller's profile")
    def get_me(self, request):
        return self.backend.community.get_profile(self.backend.caller(request))

    @route(
        "PATCH",
        "/api/v1/me",
        body=UpdateProfileSchema,
        response=MemberSchema,
        auth=True,
        summary="Change name, email, preferred channel or language",
    )
    def update_me(self, request):
        actor = self.backend.caller(request)
        return self.backend.community.update_profile(actor, json_body(request))
