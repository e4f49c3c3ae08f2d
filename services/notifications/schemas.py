from marshmallow import fields

from services.common.schemas import Schema, Timestamp


class NotificationSchema(Schema):
    id = fields.String(attribute="_id")
    event_id = fields.String()
    template = fields.String()
    language = fields.String(allow_none=True)
    channel = fields.String(allow_none=True)
    delivered_via = fields.String(allow_none=True)
    subject = fields.String(allow_none=True)
    text = fields.String(allow_none=True)
    status = fields.String()
    attempts = fields.Integer()
    last_error = fields.String(allow_none=True)
    created_at = Timestamp()
    sent_at = Timestamp(allow_none=True)
