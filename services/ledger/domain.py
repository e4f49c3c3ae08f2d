"""Ledger rules: how a settled order is split between its sellers and the hub, how an
entry joins its account, payouts and adjustments, statements, and who may see or do
what. No nameko, no pymongo.

An *account* is what a hub owes one seller (``<hub_id>/<seller_id>``), one agent
(``<hub_id>/agent:<agent_id>``, DESIGN §9), or the hub's own commission
(``<hub_id>/hub``). Each entry names the member its account is for (``member_id``: the
seller, or the agent's member; ``None`` for the hub's). Its entries are never changed or removed (a
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
``agent_commission:<order_id>:<agent_id>``,
``payout:<hub_id>:<member_id>:<Idempotency-Key>`` and the same for ``adjustment``
(a key is the member's own, so it is named with them). An event that arrives twice
never pays twice.

The split of a settled order (DESIGN §8): per seller, ``gross`` is the sum of their
lines' ``line_total``, the commission ``round_half_up(gross × percent / 100)`` in
whole rupiah (integers only), and their ``sale`` entry ``gross − commission``; the
hub's ``commission`` entry is the sum of the commissions. The sellers' entries and the
hub's add up to the order's total, always.

An order an agent placed (``agent_id``, ``agent_commission_percent``) takes the agent's
share out of the hub's commission, never out of a seller's sale: per seller, the share
is ``round_half_up(gross × agent_percent / 100)``, at most that seller's commission
(``services.common.commission.agent_share``); the agent's ``agent_commission`` entry is
the sum of the shares, and the hub's ``commission`` entry what is left of the
commissions (it carries the agents' share as ``agent_commission``, for the hub's
tally). Sellers, agent and hub still add up to the order's total.
"""

import datetime
import hashlib
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from services.common.actor import Actor, is_admin, is_coordinator, member_id
from services.common.commission import agent_share, commission_on
from services.common.envelope import payload, record, utcnow
from services.common.errors import Conflict
from services.common.gsm import rupiah
from services.common.periods import Period
from services.common.types import Document
from services.ledger.contract import (
    ADJUSTMENT,
    ADJUSTMENT_RECORDED,
    AGENT_COMMISSION,
    COMMISSION,
    PAYOUT,
    PAYOUT_RECORDED,
    SALE,
    AdjustmentRecorded,
    PayoutRecorded,
)
from services.ledger.exceptions import (
    AgentNotFound,
    InsufficientBalance,
    NotAllowed,
    NotAnAgent,
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


def agent_account(hub_id: str, agent_id: str) -> str:
    """``<hub_id>/agent:<agent_id>``: what the hub owes an agent (no member id, nor
    ``hub``, starts so)."""
    return f"{hub_id}/agent:{agent_id}"


def entry_id(cause: str) -> str:
    """The id of the one entry a cause may make."""
    return hashlib.sha256(cause.encode()).hexdigest()[:32]


def draft(
    cause: str,
    hub_id: str,
    seller_id: str | None,
    kind: str,
    amount: int,
    *,
    agent: Mapping[str, Any] | None = None,
    **facts: Any,
) -> Document:
    """An entry not yet in its account (no ``seq``, ``balance_after`` or ``at``): of the
    seller's account, of the ``agent``'s (``{agent_id, member_id}``; ``seller_id``
    ``None``), or of the hub's (neither)."""
    if agent is not None:
        account, holder = agent_account(hub_id, agent["agent_id"]), agent["member_id"]
    else:
        account, holder = account_of(hub_id, seller_id), seller_id
    return {
        "_id": entry_id(cause),
        "cause": cause,
        "account": account,
        "hub_id": hub_id,
        "seller_id": seller_id,
        "agent_id": None if agent is None else agent["agent_id"],
        "member_id": holder,
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
            f"The hub owes them {rupiah(balance)} here; it cannot pay or take back more.",
            {"amount": [f"Send at most {balance}: their balance now."]},
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


class Share(NamedTuple):
    """One seller's part of an order: their lines' total, the commission on it, and the
    agent's share of that commission (0 without an agent)."""

    seller_id: str
    gross: int
    commission: int
    agent: int = 0

    @property
    def sale(self) -> int:
        return self.gross - self.commission

    @property
    def kept(self) -> int:
        """What the hub keeps of the commission."""
        return self.commission - self.agent


def split(order: Mapping[str, Any]) -> list[Share]:
    """Each seller's share of ``order`` (an ``order_settled``), in the order of its
    lines; ``UnbalancedOrder`` if the lines do not make the total."""
    percent = _percent(order, "commission_percent")
    agent_percent = _percent(order, "agent_commission_percent") if order.get("agent_id") else 0
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
        Share(
            seller,
            amount,
            commission_on(amount, percent),
            agent_share(amount, percent, agent_percent),
        )
        for seller, amount in gross.items()
    ]


def _percent(order: Mapping[str, Any], name: str) -> int:
    percent = order.get(name)
    if isinstance(percent, int) and _whole(percent) and 0 <= percent <= MAX_PERCENT:
        return percent
    raise UnbalancedOrder(f"order {order['order_id']}: {name} {percent!r}")


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def settlement(order: Mapping[str, Any]) -> list[Document]:
    """The entries a settled order makes: each seller's sale, the share of the agent
    who placed it (if one did; the order is theirs, so its buyer is the agent's
    member), then what the hub keeps of the commission."""
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
    agents_share = sum(share.agent for share in shares)
    agent_id = order.get("agent_id")
    if agent_id:
        agent = {"agent_id": agent_id, "member_id": order["buyer_id"]}
        cause = f"agent_commission:{order_id}:{agent_id}"
        entries.append(
            draft(cause, hub_id, None, AGENT_COMMISSION, agents_share, agent=agent, **facts)
        )
    kept = sum(share.kept for share in shares)
    entries.append(
        draft(
            f"commission:{order_id}",
            hub_id,
            None,
            COMMISSION,
            kept,
            agent_commission=agents_share,
            **facts,
        )
    )
    return entries


def parse_time(text: str) -> datetime.datetime:
    moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=datetime.UTC)


# --- payouts and adjustments -----------------------------------------------------


def check_can_move_money(
    actor: Actor, hub_id: str, holder_id: str, field: str = "seller_id"
) -> None:
    """The hub's coordinator (or an admin) records payouts and adjustments, but not of
    their own balance (``holder_id``, the member ``field`` names): another
    coordinator or an admin does that."""
    if not is_coordinator(actor, hub_id):
        raise NotAllowed(
            "Only the hub's coordinator (or an admin) records payouts and adjustments.",
            {"hub_id": ["Not a hub you coordinate."]},
        )
    if holder_id == member_id(actor):
        raise NotAllowed(
            "Nobody pays or corrects their own balance.",
            {field: ["Your own balance: another coordinator or an admin records this."]},
        )


def check_is_seller(standing: bool | None, seller_id: str) -> None:
    """``standing`` is what the ledger heard of ``seller_id`` as a seller of the hub
    (``None``: never approved as one; a suspended seller is still owed their balance)."""
    if standing is None:
        raise NotASeller(
            "That member is not a seller of this hub.",
            {"seller_id": [f"{seller_id} was never approved as a seller of this hub."]},
        )


def check_is_agent(agent: Document | None, hub_id: str, agent_id: str) -> Document:
    """``agent`` is the ledger's copy of ``agent_id``'s appointment (``None``: never
    heard of), which must be in ``hub_id``; ``{agent_id, member_id}`` of it."""
    if agent is None or agent["hub_id"] != hub_id:
        raise NotAnAgent(
            "That is not an agent of this hub.",
            {"agent_id": [f"{agent_id} was never appointed an agent of this hub."]},
        )
    return {"agent_id": agent["_id"], "member_id": agent["member_id"]}


def payout(
    actor: Actor,
    hub_id: str,
    fields: Mapping[str, Any],
    key: str,
    standing: bool | None,
    agent: Document | None = None,
) -> Document:
    """A payout of ``fields["amount"]`` to the seller, or to the agent
    (``fields["agent_id"]``; ``agent`` is the ledger's copy of their appointment), under
    the caller's key."""
    facts = {"method": fields["method"], "reference": fields["reference"]}
    return _moved(PAYOUT, actor, hub_id, fields, -fields["amount"], key, standing, agent, facts)


def adjustment(
    actor: Actor, hub_id: str, fields: Mapping[str, Any], key: str, standing: bool | None
) -> Document:
    """A correction of the seller's balance by ``fields["amount"]``, with its reason."""
    facts = {"reason": fields["reason"]}
    return _moved(ADJUSTMENT, actor, hub_id, fields, fields["amount"], key, standing, None, facts)


def _moved(
    kind: str,
    actor: Actor,
    hub_id: str,
    fields: Mapping[str, Any],
    amount: int,
    key: str,
    standing: bool | None,
    agent: Document | None,
    facts: Mapping[str, Any],
) -> Document:
    """Money the coordinator moves on a seller's account (``fields["seller_id"]``), or
    an agent's (``fields["agent_id"]``): one entry per coordinator and
    ``Idempotency-Key``."""
    cause = f"{kind}:{hub_id}:{actor['member_id']}:{key}"
    agent_id = fields.get("agent_id")
    if agent_id is not None:
        holder = check_is_agent(agent, hub_id, agent_id)
        check_can_move_money(actor, hub_id, holder["member_id"], "agent_id")
        return draft(
            cause, hub_id, None, kind, amount, agent=holder, recorded_by=actor["member_id"], **facts
        )
    seller_id = fields["seller_id"]
    check_can_move_money(actor, hub_id, seller_id)
    check_is_seller(standing, seller_id)
    return draft(cause, hub_id, seller_id, kind, amount, recorded_by=actor["member_id"], **facts)


REQUEST_FIELDS = ("seller_id", "agent_id", "amount", "method", "reference", "reason")


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


def check_known_agent(agent: Document | None, hub_id: str, agent_id: str) -> Document:
    """An agent's statement exists for an agent of the hub the ledger heard of."""
    if agent is None or agent["hub_id"] != hub_id:
        raise AgentNotFound(
            "The hub has no agent of that id.",
            {"agent_id": [f"{agent_id} is not an agent of this hub."]},
        )
    return agent


def check_can_read_agent_statement(actor: Actor, hub_id: str, agent: Document) -> None:
    """An agent's statement is theirs and their hub's coordinators' (and admins')."""
    if member_id(actor) != agent["member_id"] and not is_coordinator(actor, hub_id):
        raise NotAllowed(
            "An agent's statement is for the agent and the hub's coordinator.",
            {"agent_id": ["Not you, and not a hub you coordinate."]},
        )


def statement(
    hub_id: str, seller_id: str, period: Period, opening: int, entries: Sequence[Document]
) -> Document:
    """A seller's ``{opening_balance, entries, closing_balance}`` of the period."""
    return {"hub_id": hub_id, "seller_id": seller_id, **_stretch(period, opening, entries)}


def agent_statement(
    hub_id: str, agent: Document, period: Period, opening: int, entries: Sequence[Document]
) -> Document:
    """An agent's ``{opening_balance, entries, closing_balance}`` of the period."""
    holder = {"agent_id": agent["_id"], "member_id": agent["member_id"]}
    return {"hub_id": hub_id, **holder, **_stretch(period, opening, entries)}


def _stretch(period: Period, opening: int, entries: Sequence[Document]) -> Document:
    """The entries are a stretch of the account, so the closing balance is the last
    one's balance after."""
    closing = entries[-1]["balance_after"] if entries else opening
    start, end = period
    return {
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
    """``[{hub_id, settled_orders, commission, agent_commission}]`` of the days
    ``[first_day, end_day)`` (ISO dates, which sort as days do) from each hub's tally,
    for hubs that settled an order then: ``commission`` is what the hubs kept,
    ``agent_commission`` what their agents earned of it."""
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
                    "agent_commission": sum(counts.get("agent_commission", 0) for counts in days),
                }
            )
    return found
