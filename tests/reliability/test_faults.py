"""Nothing is lost (docs/architecture.md §5, §6) while things break under a steady stream
of orders.

A last test kills the ledger while the hub's coordinator completes orders (each then
paid and settled): every settled order must be booked once, to the rupiah.

One row of the table is a broadcast: the coordinator broadcasts to a group of several
hundred contacts (some of whom said BERHENTI) and notifications is killed with SIGKILL
a quarter of the way through; afterwards each opted-in contact has the message exactly
once, and those who opted out have nothing.

The stack runs as processes started the way operators start them, on the embedded
store, with a local HTTP sink as the SMS provider, against a RabbitMQ node of the
suite's own (the machine's broker is never touched). Phones keep placing orders through
the gateway (each with its own Idempotency-Key, retried with the same key on a
timeout or a 5xx) while, in turn, each service is killed with SIGKILL and started
again, RabbitMQ is stopped and started, resets every connection or goes away for a
moment several times in a row, is killed with SIGKILL, and the SMS provider fails for
a while.
After a fault is lifted, a probe order measures how long until an order goes all the
way through again (accepted, decided by the stock saga, its seller told by SMS).

Afterwards every accepted order must exist once, be decided, the stock must add up
exactly, and every message due must have reached the sink exactly once.

    make test-reliability     # prints the table of faults; takes a few minutes
"""

import collections
import datetime
import random
import signal
import time

import pytest

from tests.support.broker import Node
from tests.support.inbound import Provider
from tests.support.processes import ProcessStack, Vhost, e2e_env
from tests.support.reliability import (
    COLUMNS,
    FINAL,
    Completer,
    GroupBroadcast,
    Phones,
    Row,
    expected_notifications,
    fill_rows,
    get,
    ledger_entries,
    open_market,
    order_notifications,
    parked_events,
    probe,
    settled,
    settled_shares,
    table,
)
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(900)]

ADMIN_PHONE = "0811-0000-0007"
ADMIN_PASSWORD = "admin-rahasia-7"
SERVICES = ("community", "catalogue", "orders", "notifications", "messaging", "ledger", "gateway")
LEAD_IN = 3.0  # orders flowing normally before each fault
DOWN = 3.0  # how long a killed service or the broker stays away
FLAPS = 8  # short broker outages in a row
SMS_DOWN = 8.0  # how long the SMS provider answers 500
MESSAGING_DOWN = 8.0  # longer than the gateway's RPC deadline: the provider gets 503s
TAIL = 2.0  # orders flowing after the recovery probe went through
RECOVERY_WITHIN = 150
ORDER_RETRY_SECONDS = 10
SETTLE_WITHIN = 180
LEDGER_ORDERS_PER_BUYER = 5  # orders each buyer places for the ledger's fault
COMPLETION_PAUSE = 0.3  # between two orders the coordinator completes
BROADCAST_CONTACTS = 300  # a group's contacts, one in ten of them said BERHENTI


@pytest.fixture(scope="module")
def stack(tmp_path_factory, sink):
    tmp_path = tmp_path_factory.mktemp("reliability")
    logs = tmp_path / "logs"
    logs.mkdir()
    with Node() as broker, Vhost(broker) as vhost:
        env = e2e_env(
            vhost,
            tmp_path / "var",
            sink.url,
            KOMPOR_ADMIN_PHONE=ADMIN_PHONE,
            KOMPOR_ADMIN_PASSWORD=ADMIN_PASSWORD,
            # a pending order nobody answered is announced again after this long
            KOMPOR_ORDER_RETRY_SECONDS=ORDER_RETRY_SECONDS,
        )
        stack = ProcessStack(env, logs)
        stack.broker, stack.vhost = broker, vhost
        stack.env.pop("MONGO_URI", None)  # the embedded store, as a local run uses
        stack.start().wait_ready()
        try:
            yield stack
        finally:
            stack.stop()


def kill_and_restart(name):
    def fault(stack, sink):
        stack.stop(name, sig=signal.SIGKILL)
        time.sleep(DOWN)
        stack.start(name)

    return f"kill -9 {name}", fault


def restart_broker(stack, sink):
    with stack.broker.stopped():
        time.sleep(DOWN)


def flap_broker(stack, sink):
    """Short outages at random moments: every connection reset mid-ack, mid-publish or
    mid-reply, or the broker away for a moment, again and again."""
    rng = random.Random(FLAPS)
    for _ in range(FLAPS):
        time.sleep(rng.uniform(0.2, 1.5))
        if rng.random() < 0.5:
            stack.broker.close_connections()
        else:
            with stack.broker.stopped():
                time.sleep(rng.uniform(0.2, 1.5))


def kill_broker(stack, sink):
    stack.broker.kill()
    time.sleep(DOWN)
    stack.broker.start()


def fail_sms(stack, sink):
    sink.fail_for(SMS_DOWN)
    time.sleep(SMS_DOWN)
    refused = {(m["to"], m["message"]) for m in sink.refused}
    assert refused, "the outage refused nothing; it tested nothing"
    # caught up when every message the provider refused has been sent again
    return lambda: refused <= {(m["to"], m["message"]) for m in sink.messages}


FAULTS = [
    ("none (baseline)", lambda stack, sink: None),
    *(kill_and_restart(name) for name in SERVICES),
    ("restart RabbitMQ", restart_broker),
    (f"RabbitMQ flaps {FLAPS}x", flap_broker),
    ("kill -9 RabbitMQ", kill_broker),
    ("SMS provider fails", fail_sms),
]


def run_faults(stack, sink, phones, market, faults):
    """Each fault in turn; ``{fault: (started wall time, Row)}``."""
    phases = {}
    for name, fault in faults:
        phones.phase = name
        row = Row(name)
        phases[name] = (datetime.datetime.now(datetime.UTC), row)
        time.sleep(LEAD_IN)
        started = time.monotonic()
        caught_up = fault(stack, sink)
        lifted = time.monotonic()
        row.down = lifted - started
        through = probe(sink, phones, market, caught_up, within=RECOVERY_WITHIN)
        row.recovery = None if through is None else through - lifted
        time.sleep(TAIL)
    phones.phase = "after"
    return phases


def test_no_order_stock_or_message_is_lost_or_doubled_while_services_the_broker_and_sms_fail(
    stack, sink, capsys
):
    admin = stack.api.login(ADMIN_PHONE, ADMIN_PASSWORD)
    market = open_market(stack.api, admin)
    broadcast = GroupBroadcast(stack.api, market, sink, contacts=BROADCAST_CONTACTS, down=DOWN)
    faults = [*FAULTS, (GroupBroadcast.NAME, broadcast.prepare().fault)]
    with Phones(stack.api, market, phones=4, interval=1.0) as phones:
        phases = run_faults(stack, sink, phones, market, faults)
    placements = phones.placements
    accepted = {p.order["id"] for p in placements if p.order is not None}
    stack.wait_ready()
    orders, notifications = wait_until(
        lambda: settled(market, sink, accepted),
        timeout=SETTLE_WITHIN,
        interval=1.0,
        message="every order decided and every message sent",
    )
    rows = fill_rows(phases, placements, orders, market.warm_up["id"])
    with capsys.disabled():
        print(f"\n\nfaults under a steady stream of orders ({len(orders)} orders in all)")
        print(table(rows))
        print(COLUMNS)
        print(f"events parked as dead letters: {parked_events(stack.vhost)}\n")

    refused = [p.refused for p in placements if p.refused]
    assert not refused, f"{len(refused)} placements were never accepted: {refused[:5]}"
    assert sum(row.lost for row in rows) == 0, "accepted orders are missing"
    assert sum(row.duplicated for row in rows) == 0, "a retried placement made a second order"
    assert all(row.recovery is not None for row in rows), "an order never went through again"
    assert {order["status"] for order in orders.values()} <= set(FINAL)

    # stock adds up exactly: what confirmed orders reserved left the shelf, nothing else
    reserved = collections.Counter()
    for order in orders.values():
        if order["status"] == "confirmed":
            for line in order["items"]:
                reserved[line["product_id"]] += line["quantity"]
    for product_id, product in market.products.items():
        stock = get(market.coordinator.client, f"/api/v1/products/{product_id}")["stock"]
        assert stock >= 0
        assert stock == product["initial"] - reserved[product_id], product_id
    assert any(order["status"] == "rejected" for order in orders.values()), (
        "the scarce product never ran out; the rejection path went untested"
    )

    # every message due was stored once, sent, and reached the provider once: a kill
    # between the provider's 2xx and recording it sends it again, under the same
    # Idempotency-Key, which a provider that honours the header delivers once
    due = expected_notifications(orders.values(), market)
    told = order_notifications(notifications)
    assert told == due
    resent = 0
    for member in market.members:
        sent = collections.Counter(n["text"] for n in notifications[member.id])
        arrived = sink.to(member.phone)
        by_key = {}
        for message in arrived:
            assert message["idempotency_key"], "a message without its Idempotency-Key"
            first = by_key.setdefault(message["idempotency_key"], message["message"])
            assert first == message["message"], "one key, two different messages"
        resent += len(arrived) - len(by_key)
        received = collections.Counter(by_key.values())
        extra, missing = received - sent, sent - received
        assert received == sent, f"{member.name}: {extra} extra, {missing} missing"
    with capsys.disabled():
        print(f"messages sent again under their first Idempotency-Key after a kill: {resent}\n")

    broadcast_resent, counts = broadcast.audit()
    with capsys.disabled():
        print(
            f"broadcast to {len(broadcast.phones)} contacts ({len(broadcast.stopped)} said "
            f"BERHENTI), notifications killed after {broadcast.at_kill} messages: each "
            f"opted-in contact got it once, {broadcast_resent} sent again under their first "
            f"key; counts {counts['sent']} sent, {counts['opted_out']} opted out, "
            f"{counts['failed']} failed\n"
        )


def test_every_text_message_is_answered_once_while_messaging_is_killed_and_returns(
    stack, sink, capsys
):
    """A provider posts a steady stream of text messages (retrying each with the same
    id until it is accepted) while messaging is killed with SIGKILL and started again:
    once it is back every message is answered, exactly once."""
    with Provider(stack.api, sink, interval=0.1) as provider:
        time.sleep(LEAD_IN)
        stack.stop("messaging", sig=signal.SIGKILL)
        time.sleep(MESSAGING_DOWN)
        stack.start("messaging")
        time.sleep(LEAD_IN)
    wait_until(provider.all_answered, timeout=SETTLE_WITHIN, interval=0.5, message="every reply")
    time.sleep(2)
    with capsys.disabled():
        print(
            f"\ntext messages while messaging was killed: {len(provider.phones)} sent, "
            f"{provider.retries} provider retries, answered once each: "
            f"{provider.answered_once()}\n"
        )
    assert provider.retries > 0, "no message met the outage; it tested nothing"
    assert provider.answered_once()


def test_no_ledger_entry_is_lost_or_doubled_while_the_ledger_is_killed_as_orders_complete(
    stack, sink, capsys
):
    """The hub's coordinator completes cash-on-delivery orders one after another (each
    completion makes the order paid and settled, and the ledger books it) while the
    ledger is killed with SIGKILL and started again: once it is back, every settled
    order has exactly one sale entry per seller, of their lines less the commission."""
    admin = stack.api.login(ADMIN_PHONE, ADMIN_PASSWORD)
    market = open_market(stack.api, admin)
    phones = Phones(stack.api, market, phones=1)  # not started: one order at a time
    placed = [phones.place(buyer) for buyer in market.buyers * LEDGER_ORDERS_PER_BUYER]
    coordinator = market.coordinator.client

    def decided():
        now = [get(coordinator, f"/api/v1/orders/{p.order['id']}") for p in placed if p.order]
        return now if all(order["status"] in FINAL for order in now) else None

    orders = wait_until(decided, timeout=SETTLE_WITHIN, interval=1.0, message="orders decided")
    confirmed = [order for order in orders if order["status"] == "confirmed"]
    with Completer(coordinator, confirmed, pause=COMPLETION_PAUSE) as completer:
        time.sleep(LEAD_IN)
        completer.down = True
        stack.stop("ledger", sig=signal.SIGKILL)
        time.sleep(DOWN)
        stack.start("ledger")
        completer.down = False
    stack.wait_ready()
    due = settled_shares(completer.completed)

    def booked():
        found = ledger_entries(coordinator, market)
        return found if set(found) >= set(due) else None

    try:
        entries = wait_until(booked, timeout=SETTLE_WITHIN, interval=1.0, message="every sale")
    except AssertionError:
        entries = ledger_entries(coordinator, market)
    lost = [key for key in due if key not in entries]
    doubled = [key for key, amounts in entries.items() if len(amounts) > 1]
    wrong = [key for key in due if key in entries and entries[key] != [due[key]]]
    with capsys.disabled():
        print(
            f"\nkill -9 ledger while orders complete: {len(completer.completed)} orders settled "
            f"({completer.during_outage} while the ledger was down), {len(due)} sale entries due: "
            f"{len(lost)} lost, {len(doubled)} doubled, {len(wrong)} wrong\n"
        )
    assert completer.during_outage > 0, "no order was settled while the ledger was down"
    assert (lost, doubled, wrong) == ([], [], [])
