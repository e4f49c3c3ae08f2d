"""The ledger's requests and responses, for its service and for the gateway. Money is
integer rupiah everywhere: an amount is taken only as a JSON integer (``strict``), so
``10.5`` or ``"1000"`` is refused rather than rounded."""

import marshmallow
from marshmallow import fields, pre_dump, validate, validates_schema

from services.common.schemas import Schema, Timestamp, bounded_integer, choice, text
from services.ledger import contract

MAX_ID = 100


class RecordPayoutSchema(Schema):
    """``{"seller_id": "…", "amount": 50000, "method": "cash", "reference": "…"}``, or
    ``agent_id`` instead of ``seller_id`` to pay an agent."""

    seller_id = text(MAX_ID, metadata={"description": "The seller paid; or send agent_id instead."})
    agent_id = text(MAX_ID, metadata={"description": "The agent paid; or send seller_id."})
    amount = bounded_integer(1, contract.MAX_AMOUNT, required=True, strict=True)
    method = choice(contract.PAYOUT_METHODS, required=True)
    reference = text(
        contract.MAX_REFERENCE,
        load_default=None,
        allow_none=True,
        metadata={"description": "The transfer's reference, or a receipt number."},
    )

    OPENAPI_EXTRA = {"oneOf": [{"required": ["seller_id"]}, {"required": ["agent_id"]}]}

    @validates_schema
    def seller_or_agent(self, data, **kwargs):
        seller_id, agent_id = data.get("seller_id"), data.get("agent_id")
        if seller_id is not None and agent_id is not None:
            raise marshmallow.ValidationError(
                "Send seller_id or agent_id, not both: a payout pays one balance.", "agent_id"
            )
        if seller_id is None and agent_id is None:
            raise marshmallow.ValidationError(
                "Required: the seller_id of the seller paid, or the agent_id of the agent paid.",
                "seller_id",
            )


class RecordAdjustmentSchema(Schema):
    """``{"seller_id": "…", "amount": -2500, "reason": "Salah hitung KD-000123"}``."""

    seller_id = text(MAX_ID, required=True)
    amount = fields.Integer(
        required=True,
        strict=True,
        validate=[
            validate.Range(
                min=-contract.MAX_AMOUNT,
                max=contract.MAX_AMOUNT,
                error="Send from {min} to {max}.",
            ),
            validate.NoneOf([0], error="Send an amount other than 0: what to add or take."),
        ],
        error_messages={
            "invalid": f"Send a whole number of rupiah from {-contract.MAX_AMOUNT} to "
            f"{contract.MAX_AMOUNT}, not 0: positive adds to the balance, negative takes."
        },
        metadata={"description": "Positive adds to the seller's balance, negative takes."},
    )
    reason = text(contract.MAX_REASON, required=True)


class EntrySchema(Schema):
    """One line of a statement; ``amount`` is what it added to (or, negative, took from)
    the balance."""

    id = fields.String(attribute="_id")
    at = Timestamp()
    kind = fields.String(validate=validate.OneOf(contract.KINDS))
    order_id = fields.String(allow_none=True)
    order_number = fields.String(allow_none=True)
    amount = fields.Integer()
    balance_after = fields.Integer()
    method = fields.String(allow_none=True)
    reference = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)


class AccountStretchSchema(Schema):
    """What every statement shows of its account over its period."""

    hub_id = fields.String()
    from_ = Timestamp(data_key="from", allow_none=True)
    to = Timestamp(allow_none=True)
    opening_balance = fields.Integer()
    entries = fields.List(fields.Nested(EntrySchema))
    closing_balance = fields.Integer()


class StatementSchema(AccountStretchSchema):
    seller_id = fields.String()


class AgentStatementSchema(AccountStretchSchema):
    agent_id = fields.String()
    member_id = fields.String(metadata={"description": "The member the agent is."})


class PayoutSchema(Schema):
    """A payout as recorded: ``amount`` paid (positive), ``balance_after`` still owed."""

    id = fields.String(attribute="_id")
    hub_id = fields.String()
    seller_id = fields.String(allow_none=True, metadata={"description": "null for an agent."})
    agent_id = fields.String(allow_none=True, dump_default=None)
    member_id = fields.String(metadata={"description": "Who was paid: the seller, or the agent."})
    amount = fields.Integer()
    method = fields.String(validate=validate.OneOf(contract.PAYOUT_METHODS))
    reference = fields.String(allow_none=True)
    balance_after = fields.Integer()
    recorded_by = fields.String()
    at = Timestamp()

    @pre_dump
    def amount_paid(self, entry, **kwargs):
        return {**entry, "amount": -entry["amount"]}


class AdjustmentSchema(Schema):
    id = fields.String(attribute="_id")
    hub_id = fields.String()
    seller_id = fields.String()
    amount = fields.Integer()
    reason = fields.String()
    balance_after = fields.Integer()
    recorded_by = fields.String()
    at = Timestamp()


class EarningSchema(Schema):
    """What a hub owes the caller now."""

    hub_id = fields.String()
    agent_id = fields.String(
        allow_none=True,
        dump_default=None,
        metadata={"description": "Set on what the hub owes the caller as its agent."},
    )
    balance = fields.Integer(attribute="balance_after")
    updated_at = Timestamp(attribute="at")


class HubCommissionSchema(Schema):
    """A hub's settled orders and commission over a period (``commission_by_hub``)."""

    hub_id = fields.String()
    settled_orders = fields.Integer()
    commission = fields.Integer(metadata={"description": "What the hub kept."})
    agent_commission = fields.Integer(metadata={"description": "What its agents earned of it."})
