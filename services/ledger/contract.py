"""What the ledger promises to the outside: the kinds of entry, how a payout is made,
the bounds of an amount, and the events it publishes with the fields of each one's
``data``.

It imports nothing of the ledger's internals, so any service may import it;
docs/events.md describes the same events for people, and a test keeps the two in step.
"""

from typing import TypedDict

# what an entry records (docs/architecture.md §17)
SALE = "sale"
"""A seller's share of a settled order: their lines' total less the hub's commission."""
COMMISSION = "commission"
"""The hub's commission on a settled order, on the hub's own account: what the hub
keeps, after the share of the agent who placed the order, if one did."""
AGENT_COMMISSION = "agent_commission"
"""An agent's share of the hub's commission on an order they placed, on their account."""
PAYOUT = "payout"
"""Money the hub paid a seller or an agent (a negative amount)."""
ADJUSTMENT = "adjustment"
"""A correction by the hub's coordinator, with its reason (either sign)."""
KINDS = (SALE, COMMISSION, AGENT_COMMISSION, PAYOUT, ADJUSTMENT)

CASH = "cash"
BANK_TRANSFER = "bank_transfer"
PAYOUT_METHODS = (CASH, BANK_TRANSFER)

MAX_AMOUNT = 1_000_000_000
"""The largest amount, in rupiah, one payout or adjustment may move."""
MAX_REFERENCE = 100
MAX_REASON = 200


# --- events (``ledger.events``) ----------------------------------------------------

PAYOUT_RECORDED = "payout_recorded"
ADJUSTMENT_RECORDED = "adjustment_recorded"


class PayoutRecorded(TypedDict):
    """The hub paid ``member_id`` ``amount`` (positive), as a seller (``seller_id``) or
    as an agent (``agent_id``; ``seller_id`` is then ``None``); ``balance_after`` is
    what the hub still owes them there."""

    payout_id: str
    hub_id: str
    seller_id: str | None
    agent_id: str | None
    member_id: str
    amount: int
    method: str
    reference: str | None
    balance_after: int
    recorded_by: str


class AdjustmentRecorded(TypedDict):
    """The hub's coordinator corrected a seller's balance by ``amount`` (either sign)."""

    adjustment_id: str
    hub_id: str
    seller_id: str
    amount: int
    reason: str
    balance_after: int
    recorded_by: str


EVENTS: dict[str, type] = {
    PAYOUT_RECORDED: PayoutRecorded,
    ADJUSTMENT_RECORDED: AdjustmentRecorded,
}
"""Every event the ledger publishes, with the shape of its ``data``."""
