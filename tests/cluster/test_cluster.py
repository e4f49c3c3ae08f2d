"""A RabbitMQ cluster of three with quorum queues loses no accepted order when nodes die
(docs/architecture.md §14, "Queue type").

Three RabbitMQ nodes of the suite's own (their own ports and data directories; the
machine's broker is never touched) are joined into one cluster. The stack runs as
processes with ``KOMPOR_QUEUE_TYPE=quorum`` and an ``AMQP_URI`` that lists a node that
does not exist first and then the three nodes (kombu's fail-over), while phones keep
placing orders (the fault suite's stream, ``tests/support/reliability.py``). In turn:
the node leading the busiest queues is killed with SIGKILL and started again; then the
node leading them after that; then two nodes at once, so the cluster has lost its
majority: a write must answer 503 quickly (never hang) and every order sent meanwhile
is accepted once the nodes are back.

Afterwards every accepted order must exist once, be decided, and every message due
must have reached the SMS sink.

    make test-cluster     # prints the table; takes a few minutes
"""

import collections
import datetime
import time
import uuid

import pytest
import requests
from nameko.testing.utils import find_free_port

from tests.support.broker import Cluster, together
from tests.support.processes import ProcessStack, Vhost, e2e_env
from tests.support.reliability import (
    COLUMNS,
    FINAL,
    Phones,
    Row,
    expected_notifications,
    fill_rows,
    open_market,
    order_body,
    order_notifications,
    parked_events,
    probe,
    settled,
    table,
)
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(1500)]

ADMIN_PHONE = "0811-0000-0009"
ADMIN_PASSWORD = "admin-rahasia-9"
LEAD_IN = 4.0  # orders flowing normally before each fault
DOWN = 5.0  # how long a killed node stays away
MAJORITY_DOWN = 10.0  # how long two of the three nodes stay away
ANSWER_WITHIN = 15.0  # a write while the majority is away is answered (503) within this
RECOVERY_WITHIN = 180
SETTLE_WITHIN = 300
TAIL = 3.0


@pytest.fixture(scope="module")
def stack(tmp_path_factory, sink):
    tmp_path = tmp_path_factory.mktemp("cluster")
    logs = tmp_path / "logs"
    logs.mkdir()
    with Cluster(3) as cluster, Vhost(cluster) as vhost:
        nowhere = f"amqp://guest:guest@localhost:{find_free_port()}/{vhost.name}"
        env = e2e_env(
            vhost,
            tmp_path / "var",
            sink.url,
            AMQP_URI=f"{nowhere};{vhost.amqp_uri}",  # a dead node first: fail-over
            KOMPOR_QUEUE_TYPE="quorum",
            KOMPOR_ADMIN_PHONE=ADMIN_PHONE,
            KOMPOR_ADMIN_PASSWORD=ADMIN_PASSWORD,
            KOMPOR_ORDER_RETRY_SECONDS=10,
        )
        stack = ProcessStack(env, logs)
        stack.cluster, stack.vhost = cluster, vhost
        stack.env.pop("MONGO_URI", None)  # the embedded store, as a local run uses
        stack.start().wait_ready()
        try:
            yield stack
        finally:
            stack.stop()


def leaders(stack):
    """``Counter({node name: load})`` of the quorum queues each node leads, weighted by
    the messages published to them."""
    api = stack.cluster.management_api
    queues = requests.get(f"{api}/queues/{stack.vhost.name}", timeout=10).json()
    load = collections.Counter()
    for queue in queues:
        if queue.get("type") == "quorum" and queue.get("leader"):
            published = (queue.get("message_stats") or {}).get("publish", 0)
            load[queue["leader"]] += 1 + published
    return load


def busiest_leader(stack):
    load = leaders(stack)
    assert load, "no quorum queue has a leader"
    return stack.cluster.node(load.most_common(1)[0][0])


def short_name(node):
    return node.name.split("@")[0].removeprefix("kompor-test-")


def kill_busiest_leader(stack, row):
    node = busiest_leader(stack)
    row.fault = f"kill -9 leader {short_name(node)}"
    node.kill()
    time.sleep(DOWN)
    node.start()
    wait_until(lambda: node.name in running_nodes(stack), timeout=60, message="node back")


def lose_the_majority(stack, row):
    """Two nodes killed: the quorum queues stop; a write answers 503 in time."""
    first = busiest_leader(stack)
    second = next(node for node in stack.cluster.nodes if node is not first)
    row.fault = f"kill -9 {short_name(first)}+{short_name(second)}"
    first.kill()
    second.kill()
    time.sleep(1.0)
    key, items, answer = write_while_away(stack)
    stack.majority_answer = answer
    time.sleep(max(MAJORITY_DOWN - answer[1], 0))
    together([first.start, second.start])
    wait_until(lambda: len(running_nodes(stack)) == 3, timeout=90, message="majority back")
    # the phone that heard 503 sends the same order again, under the same key
    stack.phones.place(stack.market.buyers[-1], items, key=key)


def write_while_away(stack):
    """``(key, items, (status, seconds))`` of one order placed while the majority is
    away."""
    market, buyer = stack.market, stack.market.buyers[-1]
    product_id = next(p for p in market.products if p != market.scarce)
    body = order_body(market, [product_id], quantity=1)
    key = f"majority-{uuid.uuid4()}"
    started = time.monotonic()
    try:
        response = buyer.client.post(
            "/api/v1/orders",
            json=body,
            headers={"Idempotency-Key": key},
            timeout=ANSWER_WITHIN * 2,
        )
        status = response.status_code
    except requests.RequestException as exc:
        status = type(exc).__name__
    return key, body["items"], (status, time.monotonic() - started)


def running_nodes(stack):
    try:
        nodes = requests.get(f"{stack.cluster.management_api}/nodes", timeout=10).json()
    except (requests.RequestException, AssertionError):
        return set()
    return {node["name"] for node in nodes if node.get("running")}


FAULTS = [
    ("none (baseline)", lambda stack, row: None),
    ("kill -9 leader", kill_busiest_leader),
    ("kill -9 next leader", kill_busiest_leader),
    ("lose the majority", lose_the_majority),
]


def run_faults(stack, sink, phones, market):
    phases = {}
    for name, fault in FAULTS:
        phones.phase = name
        row = Row(name)
        phases[name] = (datetime.datetime.now(datetime.UTC), row)
        time.sleep(LEAD_IN)
        started = time.monotonic()
        fault(stack, row)
        lifted = time.monotonic()
        row.down = lifted - started
        through = probe(sink, phones, market, within=RECOVERY_WITHIN)
        row.recovery = None if through is None else through - lifted
        time.sleep(TAIL)
    phones.phase = "after"
    return phases


def test_no_order_is_lost_or_doubled_while_cluster_nodes_die_and_the_majority_is_lost(
    stack, sink, capsys
):
    admin = stack.api.login(ADMIN_PHONE, ADMIN_PASSWORD)
    market = stack.market = open_market(stack.api, admin)
    with Phones(stack.api, market, phones=4, interval=1.0, give_up_after=240) as phones:
        stack.phones = phones
        phases = run_faults(stack, sink, phones, market)
    placements = phones.placements
    accepted = {p.order["id"] for p in placements if p.order is not None}
    stack.wait_ready()
    orders, _ = wait_until(
        lambda: settled(market, sink, accepted),
        timeout=SETTLE_WITHIN,
        interval=1.0,
        message="every order decided and every message sent",
    )
    rows = fill_rows(phases, placements, orders, market.warm_up["id"])
    status, seconds = stack.majority_answer
    with capsys.disabled():
        print(f"\n\n3-node RabbitMQ cluster, quorum queues ({len(orders)} orders in all)")
        print(table(rows))
        print(COLUMNS)
        print(f"a write while the majority was away: {status} after {seconds:.1f} s")
        print(f"events parked as dead letters: {parked_events(stack.vhost)}\n")

    refused = [p.refused for p in placements if p.refused]
    assert not refused, f"{len(refused)} placements were never accepted: {refused[:5]}"
    assert sum(row.lost for row in rows) == 0, "accepted orders are missing"
    assert sum(row.duplicated for row in rows) == 0, "a retried placement made a second order"
    assert all(row.recovery is not None for row in rows), "an order never went through again"
    assert {order["status"] for order in orders.values()} <= set(FINAL)
    assert status == 503 and seconds < ANSWER_WITHIN, (status, seconds)
    assert expected_notifications(orders.values(), market) == order_notifications(
        settled(market, sink, accepted)[1]
    )
