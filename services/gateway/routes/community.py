"""Members, hubs, memberships and trainings over HTTP (docs/architecture.md §13)."""

from services.common.schemas import PageSchema
from services.community import schemas
from services.gateway.http import json_body, query, route
from services.gateway.idempotency import IDEMPOTENCY_HEADER, key_header, key_of
from services.gateway.ratelimit import client_address


class CommunityRoutes:
    @route(
        "POST",
        "/api/v1/auth/register",
        body=schemas.RegisterSchema,
        response=schemas.MemberSchema,
        status=201,
        summary="Register a member",
        operation_id="registerMember",
    )
    def register(self, request):
        return 201, self.backend.community.register(json_body(request))

    @route(
        "POST",
        "/api/v1/auth/token",
        body=schemas.TokenRequestSchema,
        response=schemas.TokenSchema,
        summary="Log in: trade phone and password for an access token",
    )
    def issue_token(self, request):
        return self.backend.community.issue_token(json_body(request), client_address(request))

    @route(
        "POST",
        "/api/v1/auth/otp",
        body=schemas.CodeRequestSchema,
        response=schemas.CodeAcceptedSchema,
        status=202,
        summary="Ask for a one-time code by SMS (202 whether or not the phone is a member's)",
        operation_id="requestCode",
        headers={
            IDEMPOTENCY_HEADER: {
                **key_header()[IDEMPOTENCY_HEADER],
                "description": (
                    "Optional. Send one to retry safely: the same key for the same phone "
                    "within the hour sends no second code and is not counted again."
                ),
            }
        },
    )
    def request_code(self, request):
        return 202, self.backend.community.request_code(json_body(request), **key_of(request))

    @route(
        "POST",
        "/api/v1/auth/password-reset",
        body=schemas.PasswordResetSchema,
        response=schemas.PasswordResetDoneSchema,
        summary="Set a new password with a one-time code; older tokens stop working",
        operation_id="resetPassword",
    )
    def reset_password(self, request):
        done = self.backend.community.reset_password(json_body(request))
        return self._roles_changed(done["member_id"], done)

    @route(
        "GET",
        "/api/v1/me",
        response=schemas.ProfileSchema,
        auth=True,
        summary="The caller's profile, memberships with their hub, completed trainings",
    )
    def get_me(self, request):
        return self.backend.community.get_profile(self.backend.caller(request))

    @route(
        "PATCH",
        "/api/v1/me",
        body=schemas.UpdateProfileSchema,
        response=schemas.MemberSchema,
        auth=True,
        summary="Change name, email, preferred channel or language",
        headers=key_header(),
    )
    def update_me(self, request):
        actor = self.backend.caller(request)
        return self.backend.community.update_profile(actor, json_body(request), **key_of(request))

    # --- hubs ---------------------------------------------------------------

    @route(
        "POST",
        "/api/v1/hubs",
        body=schemas.CreateHubSchema,
        response=schemas.HubSchema,
        status=201,
        auth=True,
        summary="Create a hub (admin); the same request again returns the same hub",
        headers=key_header(),
    )
    def create_hub(self, request):
        actor = self.backend.caller(request)
        return 201, self.backend.community.create_hub(actor, json_body(request), **key_of(request))

    @route(
        "GET",
        "/api/v1/hubs",
        params=PageSchema,
        response=schemas.HubSchema,
        many=True,
        summary="Hubs, by name",
    )
    def list_hubs(self, request):
        return self.backend.community.list_hubs(query(request))

    @route("GET", "/api/v1/hubs/<hub_id>", response=schemas.HubSchema, summary="A hub (id or slug)")
    def get_hub(self, request, hub_id):
        return self.backend.community.get_hub(hub_id)

    @route(
        "PATCH",
        "/api/v1/hubs/<hub_id>",
        body=schemas.UpdateHubSchema,
        response=schemas.HubSchema,
        auth=True,
        summary="Set the hub's commission and bank account (its coordinator, or an admin)",
        headers=key_header(),
    )
    def update_hub(self, request, hub_id):
        actor = self.backend.caller(request)
        return self.backend.community.update_hub(
            actor, hub_id, json_body(request), **key_of(request)
        )

    @route(
        "POST",
        "/api/v1/hubs/<hub_id>/coordinators",
        body=schemas.AssignCoordinatorSchema,
        response=schemas.HubSchema,
        auth=True,
        summary="Make an existing member a coordinator of the hub (admin)",
        headers=key_header(),
    )
    def assign_coordinator(self, request, hub_id):
        actor = self.backend.caller(request)
        body = json_body(request)
        hub = self.backend.community.assign_coordinator(actor, hub_id, body, **key_of(request))
        return self._roles_changed(body["member_id"], hub)

    @route(
        "DELETE",
        "/api/v1/hubs/<hub_id>/coordinators/<member_id>",
        response=schemas.HubSchema,
        auth=True,
        summary="Stop a member coordinating the hub (admin); again changes nothing",
        headers=key_header(),
    )
    def remove_coordinator(self, request, hub_id, member_id):
        actor = self.backend.caller(request)
        hub = self.backend.community.remove_coordinator(actor, hub_id, member_id, **key_of(request))
        return self._roles_changed(member_id, hub)

    # --- memberships --------------------------------------------------------

    @route(
        "POST",
        "/api/v1/hubs/<hub_id>/memberships",
        body=schemas.ApplySchema,
        response=schemas.MembershipSchema,
        status=201,
        auth=True,
        summary="Apply to the hub as seller or buyer; applying again returns the same one",
        headers=key_header(),
    )
    def apply_for_membership(self, request, hub_id):
        actor = self.backend.caller(request)
        return 201, self.backend.community.apply_for_membership(
            actor, hub_id, json_body(request), **key_of(request)
        )

    @route(
        "GET",
        "/api/v1/hubs/<hub_id>/memberships",
        params=schemas.MembershipQuerySchema,
        response=schemas.MembershipSchema,
        many=True,
        auth=True,
        summary="The hub's memberships, oldest first (coordinator of the hub)",
    )
    def list_memberships(self, request, hub_id):
        actor = self.backend.caller(request)
        return self.backend.community.list_memberships(actor, hub_id, query(request))

    @route(
        "POST",
        "/api/v1/memberships/<membership_id>/approve",
        body=schemas.ApproveSchema,
        response=schemas.MembershipSchema,
        auth=True,
        summary="Approve a membership (coordinator of its hub)",
        headers=key_header(),
    )
    def approve_membership(self, request, membership_id):
        actor = self.backend.caller(request)
        body = json_body(request)
        membership = self.backend.community.approve_membership(
            actor, membership_id, body, **key_of(request)
        )
        return self._roles_changed(membership["member_id"], membership)

    @route(
        "POST",
        "/api/v1/memberships/<membership_id>/reject",
        body=schemas.DecisionSchema,
        response=schemas.MembershipSchema,
        auth=True,
        summary="Reject a pending membership with a reason (coordinator of its hub)",
        headers=key_header(),
    )
    def reject_membership(self, request, membership_id):
        actor = self.backend.caller(request)
        return self.backend.community.reject_membership(
            actor, membership_id, json_body(request), **key_of(request)
        )

    @route(
        "POST",
        "/api/v1/memberships/<membership_id>/suspend",
        body=schemas.DecisionSchema,
        response=schemas.MembershipSchema,
        auth=True,
        summary="Suspend an approved membership with a reason (coordinator of its hub)",
        headers=key_header(),
    )
    def suspend_membership(self, request, membership_id):
        actor = self.backend.caller(request)
        body = json_body(request)
        membership = self.backend.community.suspend_membership(
            actor, membership_id, body, **key_of(request)
        )
        return self._roles_changed(membership["member_id"], membership)

    # --- trainings ----------------------------------------------------------

    @route(
        "POST",
        "/api/v1/hubs/<hub_id>/trainings",
        body=schemas.ScheduleTrainingSchema,
        response=schemas.TrainingSchema,
        status=201,
        auth=True,
        summary="Schedule a training (coordinator of the hub)",
        headers=key_header(),
    )
    def schedule_training(self, request, hub_id):
        actor = self.backend.caller(request)
        return 201, self.backend.community.schedule_training(
            actor, hub_id, json_body(request), **key_of(request)
        )

    @route(
        "GET",
        "/api/v1/hubs/<hub_id>/trainings",
        params=PageSchema,
        response=schemas.TrainingSchema,
        many=True,
        summary="The hub's trainings, by start time",
    )
    def list_trainings(self, request, hub_id):
        return self.backend.community.list_trainings(hub_id, query(request))

    @route(
        "POST",
        "/api/v1/trainings/<training_id>/enrolments",
        response=schemas.TrainingSchema,
        status=201,
        auth=True,
        summary="Enrol in a training (approved member of its hub); 409 when full",
        operation_id="enrolInTraining",
        headers=key_header(),
    )
    def enrol(self, request, training_id):
        actor = self.backend.caller(request)
        return 201, self.backend.community.enrol(actor, training_id, **key_of(request))

    @route(
        "POST",
        "/api/v1/trainings/<training_id>/completions",
        body=schemas.CompletionSchema,
        response=schemas.TrainingSchema,
        auth=True,
        summary="Record that an enrolled member completed the training (coordinator)",
        headers=key_header(),
    )
    def complete_training(self, request, training_id):
        actor = self.backend.caller(request)
        return self.backend.community.complete_training(
            actor, training_id, json_body(request), **key_of(request)
        )

    def _roles_changed(self, member_id, answer):
        """``answer``, once the cached roles of ``member_id`` are forgotten: the change
        shows on the member's next request, not only when ``roles_changed`` arrives."""
        self.backend.forget(member_id)
        return answer
