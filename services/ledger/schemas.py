"""The ledger's requests and responses, for its service and for the gateway. Money is
integer rupiah everywhere: an amount is taken only as a JSON integer (``strict``), so
``10.5`` or ``"1000"`` is refused rather than rounded."""

from marshmallow import fields, pre_dump, validate

from services.common.schemas import Schema, Timestamp, bounded_integer, choice, text
from services.ledger import contract

MAX_ID = 100


class RecordPayoutSchema(Schema):
    """``{"seller_id": "…", "amount": 50000, "method": "cash", "reference": "…"}``."""

    seller_id = text(MAX_ID, required=True)
    amount = bounded_integer(1, contract.MAX_AMOUNT, required=True, strict=True)
    method = choice(contract.PAYOUT_METHODS, required=True)
    reference = text(
        contract.MAX_REFERENCE,
        load_default=None,
        allow_none=True,
        metadata={"description": "The transfer's reference, or a receipt number."},
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


class StatementSchema(Schema):
    hub_id = fields.String()
    seller_id = fields.String()
    from_ = Timestamp(data_key="from", allow_none=True)
    to = Timestamp(allow_none=True)
    opening_balance = fields.Integer()
    entries = fields.List(fields.Nested(EntrySchema))
    closing_balance = fields.Integer()


class PayoutSchema(Schema):
    """A payout as recorded: ``amount`` paid (positive), ``balance_after`` still owed."""

    id = fields.String(attribute="_id")
    hub_id = fields.String()
    seller_id = fields.String()
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
    balance = fields.Integer(attribute="balance_after")
    updated_at = Timestamp(attribute="at")


class HubCommissionSchema(Schema):
    """A hub's settled orders and commission over a period (``commission_by_hub``)."""

    hub_id = fields.String()
    settled_orders = fields.Integer()
    commission = fields.Integer()
