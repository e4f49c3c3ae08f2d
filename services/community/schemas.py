from marshmallow import fields, validate

from services.common.schemas import TEXT_ERRORS, Phone, Schema, Timestamp, text

CHANNELS = ("sms", "whatsapp", "email")
LANGUAGES = ("id", "en")


def _choice(options):
    return fields.String(
        validate=validate.OneOf(options, error=f"Send one of: {', '.join(options)}."),
        error_messages=TEXT_ERRORS,
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
    preferred_channel = _choice(CHANNELS)
    language = _choice(LANGUAGES)


class TokenRequestSchema(Schema):
    phone = Phone(required=True, error_messages=TEXT_ERRORS)
    password = fields.String(
        required=True, load_only=True, error_messages=TEXT_ERRORS, validate=validate.Length(max=128)
    )


class UpdateProfileSchema(Schema):
    name = text(100)
    email = _email(allow_none=True)
    preferred_channel = _choice(CHANNELS)
    language = _choice(LANGUAGES)


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
