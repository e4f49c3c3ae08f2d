"""Messaging's requests and responses, for its service and for the gateway."""

from marshmallow import fields, validate

from services.common.schemas import TEXT_ERRORS, Phone, Schema, Timestamp
from services.messaging import contract


class InboundSchema(Schema):
    """What a provider posts: ``{"id": "…", "from": "+62…", "text": "…"}``. The text
    is taken as sent (any characters, empty too); beyond ``MAX_TEXT`` characters it is
    kept cut and marked ``truncated``."""

    id = fields.String(
        load_default="",
        allow_none=True,
        validate=validate.Length(
            max=contract.MAX_PROVIDER_ID, error="Send at most {max} characters."
        ),
        error_messages=TEXT_ERRORS,
    )
    phone = Phone(required=True, data_key="from", error_messages=TEXT_ERRORS)
    text = fields.String(required=True, error_messages=TEXT_ERRORS)


class AcceptedSchema(Schema):
    accepted = fields.Boolean()


class ReplySchema(Schema):
    text = fields.String()
    at = Timestamp()


class MessageSchema(Schema):
    """An inbound message and our reply to it (``null`` until handled, or when it
    was not answered: an echo of our own reply, or help asked again too soon)."""

    id = fields.String(attribute="_id")
    channel = fields.String()
    phone = fields.String()
    text = fields.String()
    truncated = fields.Boolean()
    member_id = fields.String(allow_none=True)
    verb = fields.String(allow_none=True)
    understood = fields.Boolean(allow_none=True)
    received_at = Timestamp()
    reply = fields.Nested(ReplySchema, allow_none=True)
