"""Bodies the gateway answers itself, for the API document: health, the error
envelope every failure comes in, and the page every list comes in."""

import functools

from marshmallow import fields, validate

from services.common.schemas import Schema

READINESS = ("ok", "unavailable")
SERVICE_STATUSES = (*READINESS, "starting")
"""``starting``: the gateway itself, until it holds its copy of the showroom."""


class HealthSchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf(["ok"]))


class ReadinessSchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf(READINESS))
    services = fields.Dict(
        keys=fields.String(),
        values=fields.String(validate=validate.OneOf(SERVICE_STATUSES)),
        required=True,
    )


class ErrorBodySchema(Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)
    details = fields.Dict(keys=fields.String(), values=fields.Raw())
    request_id = fields.String(
        metadata={"description": "The request's id, as in the X-Request-ID answer header."}
    )


class ErrorSchema(Schema):
    error = fields.Nested(ErrorBodySchema, required=True)


@functools.cache
def page_schema(item_schema):
    """The page a list of ``item_schema`` comes in: ``HubSchema`` gives ``HubPageSchema``.

    One class per item schema, so every list of hubs names the same component."""
    name = item_schema.__name__.removesuffix("Schema")
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item_schema), required=True),
            "page": fields.Integer(required=True, validate=validate.Range(min=1)),
            "page_size": fields.Integer(required=True, validate=validate.Range(min=1)),
            "total": fields.Integer(required=True, validate=validate.Range(min=0)),
        },
        name=f"{name}PageSchema",
    )
