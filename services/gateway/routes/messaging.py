"""Text messages over HTTP (docs/architecture.md §13): the providers' signed inbound
webhooks, a member's conversation log and a hub's messages that were not understood."""

from nameko.extensions import DependencyProvider

from services.common import config as cfg
from services.common import webhooks
from services.common.errors import ServiceUnavailable, Unauthenticated
from services.common.schemas import PageSchema
from services.gateway.http import json_of, query, raw_body, route
from services.messaging import schemas
from services.messaging.contract import SMS, WHATSAPP

SIGNATURE_HEADERS = {
    webhooks.SIGNATURE_HEADER: {
        "required": True,
        "description": "Hex HMAC-SHA256 of the raw body (or of timestamp + '.' + body when "
        f"{webhooks.TIMESTAMP_HEADER} is sent) under INBOUND_WEBHOOK_SECRET.",
        "schema": {"type": "string", "pattern": "^[0-9a-fA-F]{64}$"},
    },
    webhooks.TIMESTAMP_HEADER: {
        "required": False,
        "description": f"Unix seconds; refused when more than {webhooks.MAX_SKEW} s away.",
        "schema": {"type": "string", "pattern": "^[0-9]{1,12}$"},
    },
}


class InboundSecret(DependencyProvider):
    """``self.inbound_secret``: ``INBOUND_WEBHOOK_SECRET``, or ``None`` when unset."""

    def setup(self):
        self.secret = cfg.setting(self.container.config, webhooks.SECRET_KEY)

    def get_dependency(self, worker_ctx):
        return self.secret


class MessagingRoutes:
    inbound_secret = InboundSecret()

    def _inbound(self, request, channel):
        if not self.inbound_secret:
            raise ServiceUnavailable(
                "Inbound messages are not configured here (INBOUND_WEBHOOK_SECRET is unset).",
                {"service": ["messaging"]},
            )
        raw = raw_body(request)
        try:
            webhooks.verify(
                raw,
                str(self.inbound_secret),
                request.headers.get(webhooks.SIGNATURE_HEADER),
                request.headers.get(webhooks.TIMESTAMP_HEADER),
            )
        except webhooks.BadSignature as exc:
            raise Unauthenticated(str(exc)) from None
        self.backend.messaging.receive(channel, json_of(raw))
        return {"accepted": True}

    @route(
        "POST",
        "/api/v1/inbound/sms",
        body=schemas.InboundSchema,
        response=schemas.AcceptedSchema,
        headers=SIGNATURE_HEADERS,
        summary="A text message from a member's phone, posted by the SMS provider (signed)",
        operation_id="receiveSms",
    )
    def inbound_sms(self, request):
        return self._inbound(request, SMS)

    @route(
        "POST",
        "/api/v1/inbound/whatsapp",
        body=schemas.InboundSchema,
        response=schemas.AcceptedSchema,
        headers=SIGNATURE_HEADERS,
        summary="A WhatsApp message from a member, posted by the provider (signed)",
        operation_id="receiveWhatsapp",
    )
    def inbound_whatsapp(self, request):
        return self._inbound(request, WHATSAPP)

    @route(
        "GET",
        "/api/v1/me/messages",
        params=PageSchema,
        response=schemas.MessageSchema,
        many=True,
        auth=True,
        summary="The caller's text messages to us, newest first, each with our reply",
    )
    def list_my_messages(self, request):
        actor = self.backend.caller(request)
        return self.backend.messaging.list_my_messages(actor, query(request))

    @route(
        "GET",
        "/api/v1/hubs/<hub_id>/messages",
        params=PageSchema,
        response=schemas.MessageSchema,
        many=True,
        auth=True,
        summary="Text messages from the hub's members that were not understood (coordinator)",
    )
    def list_hub_messages(self, request, hub_id):
        actor = self.backend.caller(request)
        return self.backend.messaging.list_hub_messages(actor, hub_id, query(request))
