"""Builders for what the ledger consumes (``order_settled``, docs/events.md), and its
side of the API read the way a coordinator or a seller would.

Until orders publishes ``order_settled`` from a real order's life, integration tests
publish it as orders would (``tests.support.notifications.Events``)::

    order = settled_order(hub_id, [(seller_id, 105_000)], commission_percent=10)
    events.publish("orders", "order_settled", order)
"""

from fractions import Fraction

from services.common.envelope import isoformat, utcnow
from tests.support.catalogue import key_header
from tests.support.notifications import make_line, make_order, new_id
from tests.support.waiting import wait_until


def settled_order(hub_id, lines, commission_percent=10, buyer_id=None, **overrides):
    """An ``order_settled`` payload: the order summary of a completed, paid order with
    one line per ``(seller_id, line_total)`` (or ``(seller_id, quantity, unit_price)``),
    its channel and commission, and when it was settled."""
    made = []
    for line in lines:
        seller_id, *amounts = line
        quantity, unit_price = amounts if len(amounts) == 2 else (1, amounts[0])
        made.append(
            {**make_line(seller_id, quantity=quantity, unit_price=unit_price), "code": None}
        )
    settled = {
        "status": "completed",
        "payment_status": "paid",
        "acted_by": None,
        "channel": "online",
        "commission_percent": commission_percent,
        "agent_id": None,
        "agent_commission_percent": None,
        "customer": None,
        "broadcast_id": None,
        "settled_at": isoformat(utcnow()),
    }
    return make_order(hub_id, buyer_id or new_id(), made, **{**settled, **overrides})


def random_order(rng, hub_id, sellers):
    """A settled order with 1 to 6 lines of 1 to 3 of ``sellers``, quantities up to 999
    and prices up to 1,000,000 rupiah (odd amounts, so rounding is exercised), at a
    commission of 0 to 50 %."""
    chosen = rng.sample(sellers, rng.randint(1, min(3, len(sellers))))
    lines = [
        (rng.choice(chosen), rng.randint(1, 999), rng.randint(1, 1_000_000))
        for _ in range(rng.randint(1, 6))
    ]
    return settled_order(hub_id, lines, commission_percent=rng.randint(0, 50))


def agent_order(hub_id, lines, agent_id, agent_member_id, agent_percent, **overrides):
    """An ``order_settled`` of an order an agent placed for a customer: the order is
    the agent's (``buyer_id``), on channel ``agent``."""
    return settled_order(
        hub_id,
        lines,
        buyer_id=agent_member_id,
        channel="agent",
        agent_id=agent_id,
        agent_commission_percent=agent_percent,
        customer={"name": "Bu Tini", "phone": "+6281234567890"},
        **overrides,
    )


def random_agent_order(rng, hub_id, sellers):
    """``random_order`` placed by an agent whose share is 0 % to the order's commission
    (as orders fixes it: never more)."""
    order = random_order(rng, hub_id, sellers)
    share = rng.randint(0, order["commission_percent"])
    return {
        **order,
        "channel": "agent",
        "agent_id": "agent-1",
        "agent_commission_percent": share,
    }


def _half_up(exact):
    return int(exact) + (1 if exact - int(exact) >= Fraction(1, 2) else 0)


def expected_agent_share(order):
    """The agent's share worked out the long way: per seller, their gross at the
    agent's percent, rounded half up, never more than that seller's commission."""
    gross = {}
    for line in order["items"]:
        gross[line["seller_id"]] = gross.get(line["seller_id"], 0) + line["line_total"]
    return sum(
        min(
            _half_up(Fraction(amount * order["agent_commission_percent"], 100)),
            _half_up(Fraction(amount * order["commission_percent"], 100)),
        )
        for amount in gross.values()
    )


def expected_split(order):
    """``({seller_id: sale}, commission)`` worked out the long way, with exact
    fractions: the reference the ledger's integers are checked against."""
    gross = {}
    for line in order["items"]:
        gross[line["seller_id"]] = gross.get(line["seller_id"], 0) + line["line_total"]
    sales, commission = {}, 0
    for seller_id, amount in gross.items():
        cut = _half_up(Fraction(amount * order["commission_percent"], 100))
        sales[seller_id] = amount - cut
        commission += cut
    return sales, commission


def statement(client, hub_id, seller_id, **params):
    response = client.get(f"/api/v1/hubs/{hub_id}/sellers/{seller_id}/statement", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def balance(client, hub_id, seller_id):
    return statement(client, hub_id, seller_id)["closing_balance"]


def wait_for_balance(client, hub_id, seller_id, amount, timeout=20):
    """Wait until the seller's balance at the hub is ``amount``; returns the statement."""

    def reached():
        found = statement(client, hub_id, seller_id)
        return found if found["closing_balance"] == amount else None

    return wait_until(reached, timeout=timeout, message=f"a balance of {amount}")


def pay(client, hub_id, seller_id, amount, method="cash", key=None, **extra):
    """``POST /hubs/{hub_id}/payouts`` (a new Idempotency-Key unless ``key``)."""
    headers = {"Idempotency-Key": key} if key else key_header()
    body = {"seller_id": seller_id, "amount": amount, "method": method, **extra}
    return client.post(f"/api/v1/hubs/{hub_id}/payouts", json=body, headers=headers)
