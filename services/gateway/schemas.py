"""Bodies the gateway answers itself (health), for the API document."""

from marshmallow import fields, validate

from services.common.schemas import Schema

SERVICE_STATUSES = ("ok", "unavailable")


class HealthSchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf(["ok"]))


class ReadinessSchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf(SERVICE_STATUSES))
    services = fields.Dict(
        keys=fields.String(),
        values=fields.String(validate=validate.OneOf(SERVICE_STATUSES)),
        required=True,
    )
