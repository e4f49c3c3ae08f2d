"""Bodies the gateway answers itself, for the API document: health, the error
envelope every failure comes in, the page every list comes in, and the network report
it puts together."""

import functools

from marshmallow import fields, validate

from services.common.schemas import Schema, Timestamp
from services.community.schemas import BroadcastSchema
from services.orders.schemas import AgentSalesSchema

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


# --- the network report, put together here (services/gateway/network.py) ----------


class ChannelSalesSchema(Schema):
    orders = fields.Integer()
    gross = fields.Integer()


class NetworkCountsSchema(Schema):
    """What every row of the network report counts over its period."""

    members_by_role = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        metadata={"description": "Approved members by role: seller, buyer, coordinator…"},
    )
    trainings_held = fields.Integer()
    trainings_completed = fields.Integer()
    orders = fields.Integer()
    gross = fields.Integer(metadata={"description": "Sales, whole rupiah."})
    by_channel = fields.Dict(
        keys=fields.String(),
        values=fields.Nested(ChannelSalesSchema),
        metadata={"description": "Orders and gross sales by channel: online, sms, counter…"},
    )
    settled_orders = fields.Integer(metadata={"description": "Orders completed and paid."})
    commission = fields.Integer(
        metadata={"description": "The commission the hubs kept, after their agents' share."}
    )
    agent_commission = fields.Integer(
        metadata={"description": "The agents' share of the commission, whole rupiah."}
    )


class NetworkHubSchema(NetworkCountsSchema):
    hub_id = fields.String()
    name = fields.String(allow_none=True)
    district = fields.String(allow_none=True)
    by_agent = fields.List(
        fields.Nested(AgentSalesSchema),
        metadata={"description": "Each agent's completed orders, gross and share of it."},
    )


class NetworkDistrictSchema(NetworkCountsSchema):
    district = fields.String(allow_none=True)
    hubs = fields.Integer()


class NetworkTotalsSchema(NetworkCountsSchema):
    hubs = fields.Integer()


class NetworkReportSchema(Schema):
    from_ = Timestamp(data_key="from", allow_none=True)
    to = Timestamp(allow_none=True)
    hubs = fields.List(fields.Nested(NetworkHubSchema))
    districts = fields.List(fields.Nested(NetworkDistrictSchema))
    totals = fields.Nested(NetworkTotalsSchema)


# --- a broadcast, with how far its sending got (services/gateway/routes/channels.py) --

BROADCAST_COUNTS = ("total", "queued", "sent", "failed", "opted_out")


class BroadcastReportSchema(BroadcastSchema):
    """A broadcast as community keeps it, with its messages counted by notifications."""

    OPENAPI_EXTRA = {  # for the API document
        "description": "The broadcast with its messages counted by notifications: total, "
        "queued, sent, failed and opted_out are null while notifications does not answer "
        "(the broadcast itself still shows)."
    }

    total = fields.Integer(
        allow_none=True, metadata={"description": "Messages made: one per distinct phone."}
    )
    queued = fields.Integer(allow_none=True, metadata={"description": "Waiting to be sent."})
    sent = fields.Integer(allow_none=True)
    failed = fields.Integer(allow_none=True, metadata={"description": "Given up on."})
    opted_out = fields.Integer(
        allow_none=True,
        metadata={"description": "Not sent: the phone had sent BERHENTI when its turn came."},
    )
