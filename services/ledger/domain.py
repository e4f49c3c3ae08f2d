"""Ledger rules: how a settled order is split between its sellers and the hub, how an
entry joins its account, payouts and adjustments, statements, and who may see or do
what. No nameko, no pymongo.

An *account* is what a hub owes one seller (``<hub_id>/<seller_id>``), or the hub's
own commission (``<hub_id>/hub``). Its entries are never changed or removed (a
correction is an adjustment, a new entry). Each entry takes the account's next ``seq``
and carries the ``balance_after`` it, computed from the entry before; the store keeps
(account, seq) unique, so two writers that read the same last entry collide and the
loser reads again (``repository.append``). A balance therefore cannot be spent twice,
and it never goes below zero: a payout or negative adjustment larger than the balance
is refused. An entry's ``at`` is when it was written, never earlier than the entry
before it, so the entries before a moment are a prefix of the account and a
statement's opening balance plus its entries is its closing balance.

Each entry is written once per *cause*, the entry's id being a hash of its cause key:
``sale:<order_id>:<seller_id>``, ``commission:<order_id>``,
``payout:<hub_id>:<member_id>:<Idempotency-Key>`` and the same for ``adjustment``
(a key is the member's own, so it is named with them). An event that arrives twice
never pays twice.

The split of a settled order (DESIGN §8): per seller, ``gross`` is the sum of their
lines' ``line_total``, the commission ``round_half_up(gross × percent / 100)`` in
whole rupiah (integers only), and their ``sale`` entry ``gross − commission``; the
hub's ``commission`` entry is the sum of the commissions. The sellers' entries and the
hub's add up to the order's total, always.
"""

import datetime
import hashlib
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from services.common.actor import Actor, is_admin, is_coordinator, member_id
from services.common.envelope import payload, record, utcnow
from services.common.errors import Conflict
from services.common.gsm import rupiah
from services.common.types import Document
from services.ledger.contract import (
    ADJUSTMENT,
    ADJUSTMENT_RECORDED,
    COMMISSION,
    PAYOUT,
    PAYOUT_RECORDED,
    SALE,
    AdjustmentRecorded,
    PayoutRecorded,
)
from services.ledger.exceptions import (
    InsufficientBalance,
    NotAllowed,
    NotASeller,
    SellerNotFound,
)

HUB_HOLDER = "hub"
"""The holder part of the hub's own account: no member id looks like it."""
MAX_PERCENT = 100

ENTRY_FIELDS = (
    "order_id",
    "order_number",
    "settled_at",
    "method",
    "reference",
    "reason",
    "recorded_by",
)
"""What an entry may say besides its amount: each is ``None`` where it does not apply."""


class UnbalancedOrder(ValueError):
    """A settled order whose lines do not add up to its total, or whose commission is
    not a percentage: it is booked nowhere (its event is retried, then parked as a
    dead letter for an operator), never booked wrong."""


# --- accounts and entries --------------------------------------------------------


def account_of(hub_id: str, seller_id: str | None) -> str:
    """``<hub_id>/<seller_id>``, or ``<hub_id>/hub`` for the hub's own account."""
    return f"{hub_id}/{seller_id or HUB_HOLDER}"


def entry_id(cause: str) -> str:
    """The id of the one entry a cause may make."""
    return hashlib.sha256(cause.encode()).hexdigest()[:32]


def draft(
    cause: str, hub_id: str, seller_id: str | None, kind: str, amount: int, **facts: Any
) -> Document:
    """An entry not yet in its account (no ``seq``, ``balance_after`` or ``at``)."""
    return {
        "_id": entry_id(cause),
        "cause": cause,
        "account": account_of(hub_id, seller_id),
        "hub_id": hub_id,
        "seller_id": seller_id,
        "kind": kind,
        "amount": amount,
        **dict.fromkeys(ENTRY_FIELDS),
        **facts,
    }


def appended(
    entry_draft: Document, last: Document | None, now: datetime.datetime | None = None
) -> Document:
    """``entry_draft`` as the entry after ``last`` in its account (``None``: the first),
    with its event recorded on it; ``InsufficientBalance`` if it would take the
    balance below zero."""
    balance = last["balance_after"] if last is not None else 0
    after = balance + entry_draft["amount"]
    if after < 0:
        raise InsufficientBalance(
            f"The hub owes this seller {rupiah(balance)}; it cannot pay or take back more.",
            {"amount": [f"Send at most {balance}: the seller's balance now."]},
        )
    at = now or utcnow()
    if last is not None and last["at"] > at:  # another writer's clock ran ahead
        at = last["at"]
    entry = {
        **entry_draft,
        "seq": last["seq"] + 1 if last is not None else 1,
        "balance_after": after,
        "at": at,
    }
    _announce(entry)
    return entry


def _announce(entry: Document) -> None:
    if entry["kind"] == PAYOUT:
        data = payload(PayoutRecorded, entry, payout_id=entry["_id"], amount=-entry["amount"])
        record(entry, PAYOUT_RECORDED, data)
    elif entry["kind"] == ADJUSTMENT:
        record(
            entry,
            ADJUSTMENT_RECORDED,
            payload(AdjustmentRecorded, entry, adjustment_id=entry["_id"]),
        )


# --- a settled order -------------------------------------------------------------


def commission_on(amount: int, percent: int) -> int:
    """``round_half_up(amount × percent / 100)`` in whole rupiah, with integers only
    (``amount`` and ``percent`` are never negative): 10 % of 105 is 11, of 104 is 10."""
    return (amount * percent + 50) // 100


class Share(NamedTuple):
    """One seller's part of an order: their lines' total and the hub's commission on it."""

    seller_id: str
    gross: int
    commission: int

    @property
    def sale(self) -> int:
        return self.gross - self.commission


def split(order: Mapping[str, Any]) -> list[Share]:
    """Each seller's share of ``order`` (an ``order_settled``), in the order of its
    lines; ``UnbalancedOrder`` if the lines do not make the total."""
    percent = order["commission_percent"]
    if not _whole(percent) or not 0 <= percent <= MAX_PERCENT:
        raise UnbalancedOrder(f"order {order['order_id']}: commission_percent {percent!r}")
    gross: dict[str, int] = {}
    for line in order["items"]:
        total = line["line_total"]
        if not _whole(total) or total < 0:
            raise UnbalancedOrder(f"order {order['order_id']}: line_total {total!r}")
        gross[line["seller_id"]] = gross.get(line["seller_id"], 0) + total
    if sum(gross.values()) != order["total"]:
        raise UnbalancedOrder(
            f"order {order['order_id']}: lines make {sum(gross.values())}, total {order['total']}"
        )
    return [
        Share(seller, amount, commission_on(amount, percent)) for seller, amount in gross.items()
    ]


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def settlement(order: Mapping[str, Any]) -> list[Document]:
    """The entries a settled order makes: each seller's sale, then the hub's
    commission."""
    shares = split(order)
    hub_id, order_id = order["hub_id"], order["order_id"]
    settled_at = parse_time(order["settled_at"])
    facts = {"order_id": order_id, "order_number": order["number"], "settled_at": settled_at}
    entries = [
        draft(
            f"sale:{order_id}:{share.seller_id}", hub_id, share.seller_id, SALE, share.sale, **facts
        )
        for share in shares
    ]
    commission = sum(share.commission for share in shares)
    entries.append(draft(f"commission:{order_id}", hub_id, None, COMMISSION, commission, **facts))
    return entries


def parse_time(text: str) -> datetime.datetime:
    moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=datetime.UTC)


# --- payouts and adjustments -----------------------------------------------------


def check_can_move_money(actor: Actor, hub_id: str, seller_id: str) -> None:
    """The hub's coordinator (or an admin) records payouts and adjustments, but not of
    their own balance: another coordinator or an admin does that."""
    if not is_coordinator(actor, hub_id):
        raise NotAllowed(
            "Only the hub's coordinator (or an admin) records payouts and adjustments.",
            {"hub_id": ["Not a hub you coordinate."]},
        )
    if seller_id == member_id(actor):
        raise NotAllowed(
            "Nobody pays or corrects their own balance.",
            {"seller_id": ["Your own balance: another coordinator or an admin records this."]},
        )


def check_is_seller(standing: bool | None, seller_id: str) -> None:
    """``standing`` is what the ledger heard of ``seller_id`` as a seller of the hub
    (``None``: never approved as one; a suspended seller is still owed their balance)."""
    if standing is None:
        raise NotASeller(
            "That member is not a seller of this hub.",
            {"seller_id": [f"{seller_id} was never approved as a seller of this hub."]},
        )


def payout(
    actor: Actor, hub_id: str, fields: Mapping[str, Any], key: str, standing: bool | None
) -> Document:
    """A payout of ``fields["amount"]`` to the seller, under the caller's key."""
    facts = {"method": fields["method"], "reference": fields["reference"]}
    return _moved(
        PAYOUT, actor, hub_id, fields["seller_id"], -fields["amount"], key, standing, facts
    )


def adjustment(
    actor: Actor, hub_id: str, fields: Mapping[str, Any], key: str, standing: bool | None
) -> Document:
    """A correction of the seller's balance by ``fields["amount"]``, with its reason."""
    facts = {"reason": fields["reason"]}
    return _moved(
        ADJUSTMENT, actor, hub_id, fields["seller_id"], fields["amount"], key, standing, facts
    )


def _moved(
    kind: str,
    actor: Actor,
    hub_id: str,
    seller_id: str,
    amount: int,
    key: str,
    standing: bool | None,
    facts: Mapping[str, Any],
) -> Document:
    """Money the coordinator moves on a seller's account: one entry per coordinator
    and ``Idempotency-Key``."""
    check_can_move_money(actor, hub_id, seller_id)
    check_is_seller(standing, seller_id)
    cause = f"{kind}:{hub_id}:{actor['member_id']}:{key}"
    return draft(cause, hub_id, seller_id, kind, amount, recorded_by=actor["member_id"], **facts)


REQUEST_FIELDS = ("seller_id", "amount", "method", "reference", "reason")


def check_same_request(entry: Document, asked: Document) -> Document:
    """The entry written under a key, if it is what was ``asked`` this time: the same
    key for another payout is a ``Conflict`` (two tries that overlap meet here rather
    than in the stored answers)."""
    if any(entry[field] != asked[field] for field in REQUEST_FIELDS):
        raise Conflict(
            "This Idempotency-Key was already used for another payout or adjustment.",
            {"Idempotency-Key": ["Already used with another body; send a new key."]},
        )
    return entry


# --- statements and balances -----------------------------------------------------


def check_can_read_statement(actor: Actor, hub_id: str, seller_id: str) -> None:
    """A seller's statement is theirs and their hub's coordinators' (and admins')."""
    if member_id(actor) != seller_id and not is_coordinator(actor, hub_id):
        raise NotAllowed(
            "A statement is for its seller and the hub's coordinator.",
            {"seller_id": ["Not you, and not a hub you coordinate."]},
        )


def check_known_seller(seller_id: str, known: bool) -> None:
    """A statement of a member the hub never had as a seller does not exist (who sells
    at a hub is no secret: their products are in its showroom)."""
    if not known:
        raise SellerNotFound(
            "The hub has no seller of that id.",
            {"seller_id": [f"{seller_id} never sold at this hub."]},
        )


def statement(
    hub_id: str,
    seller_id: str,
    period: tuple[datetime.datetime | None, datetime.datetime | None],
    opening: int,
    entries: Sequence[Document],
) -> Document:
    """``{opening_balance, entries, closing_balance}`` of the period: the entries are a
    stretch of the account, so the closing balance is the last one's balance after."""
    closing = entries[-1]["balance_after"] if entries else opening
    start, end = period
    return {
        "hub_id": hub_id,
        "seller_id": seller_id,
        "from_": start,
        "to": end,
        "opening_balance": opening,
        "entries": list(entries),
        "closing_balance": closing,
    }


# --- the network report ----------------------------------------------------------


def check_can_see_network(actor: Actor) -> None:
    if not is_admin(actor):
        raise NotAllowed("The network report is for admins.", {"actor": ["Log in as an admin."]})


def commission_by_hub(
    tallies: Sequence[Mapping[str, Any]], first_day: str | None, end_day: str | None
) -> list[Document]:
    """``[{hub_id, settled_orders, commission}]`` of the days ``[first_day, end_day)``
    (ISO dates, which sort as days do) from each hub's tally, for hubs that settled an
    order then."""
    found = []
    for tally in sorted(tallies, key=lambda tally: tally["_id"]):
        days = [
            counts
            for day, counts in (tally.get("days") or {}).items()
            if (first_day is None or day >= first_day) and (end_day is None or day < end_day)
        ]
        if days:
            found.append(
                {
                    "hub_id": tally["_id"],
                    "settled_orders": sum(counts["settled_orders"] for counts in days),
                    "commission": sum(counts["commission"] for counts in days),
                }
            )
    return found
