"""``KOMPOR_QUEUE_TYPE=quorum`` (services/common/queues.py): every durable queue the
services declare is a quorum queue, reply queues stay exclusive classic queues, events
and RPC flow as before, a poison message is bounded by the delivery limit, and a queue
that exists with the other type stops the service with a line saying what to do."""

import logging
import urllib.parse

import eventlet
import kombu
import pytest
import requests

from services.common import cli
from services.common.envelope import DEAD_LETTER_QUEUE
from services.orders.service import OrdersService
from tests.integration.test_event_delivery import Flaky, FlakyService, _channel
from tests.support.broker import MACHINE
from tests.support.events import publish
from tests.support.reliability import FINAL, Phones, get, open_market
from tests.support.waiting import wait_until


@pytest.fixture
def config(config, monkeypatch):
    monkeypatch.setenv("KOMPOR_QUEUE_TYPE", "quorum")  # for the operator CLI, as compose sets it
    return {**config, "KOMPOR_QUEUE_TYPE": "quorum", "KOMPOR_DELIVERY_LIMIT": 2}


def vhost_of(config):
    return urllib.parse.unquote(urllib.parse.urlparse(config["AMQP_URI"]).path.lstrip("/"))


def queues(config):
    """``{name: queue}`` of the test's vhost, from the management API."""
    url = f"{MACHINE.management_api}/queues/{urllib.parse.quote(vhost_of(config), safe='')}"
    return {queue["name"]: queue for queue in requests.get(url, timeout=10).json()}


def test_every_durable_queue_is_a_quorum_queue_and_orders_flow_through_them(
    stack, api, admin, sms_sink
):
    market = open_market(api, admin, sellers=1, products_each=2, buyers=2, scarce_stock=5)
    phones = Phones(api, market)
    product_id = next(p for p in market.products if p != market.scarce)
    placement = phones.place(market.buyers[0], [{"product_id": product_id, "quantity": 1}])
    assert placement.order is not None, placement.refused
    order_path = f"/api/v1/orders/{placement.order['id']}"
    wait_until(
        lambda: get(market.buyers[0].client, order_path)["status"] in FINAL,
        timeout=20,
        message="the order decided by the stock saga",
    )
    seller = market.member(market.products[product_id]["seller_id"])
    wait_until(lambda: sms_sink.to(seller.phone), timeout=20, message="the seller's SMS")

    declared = queues(stack.config)
    replies = {n: q for n, q in declared.items() if n.startswith("rpc.reply")}
    own = {n: q for n, q in declared.items() if q["exclusive"] or q["auto_delete"]}
    shared = {n: q for n, q in declared.items() if n not in replies and n not in own}
    assert {f"rpc-{name}" for name in ("community", "catalogue", "orders", "notifications")} <= set(
        shared
    )
    assert any(name.startswith("evt-catalogue-") for name in shared)
    for name, queue in shared.items():
        assert queue["type"] == "quorum", name
        if name != DEAD_LETTER_QUEUE:
            assert queue["arguments"]["x-delivery-limit"] == 2, name
    # a caller's own reply queue (nameko's, expiring with its process) stays classic
    assert replies, "the gateway's reply queue"
    assert all(q["type"] == "classic" and "x-expires" in q["arguments"] for q in replies.values())
    # and so does each gateway's broadcast listener, which lives with its connection
    assert own and all(q["type"] == "classic" for q in own.values())


def test_a_failing_handler_is_retried_through_quorum_queues_and_parked(container_factory, config):
    Flaky.broken, Flaky.handled = True, []
    container_factory(FlakyService, config).start()
    event = publish(config, "community", "member_registered", {"member_id": "m1"})
    channel = _channel(config)
    parked = wait_until(lambda: cli.dead_letters(channel), timeout=15, message="dead letter")
    assert parked[0][0] == event["event_id"]
    declared = queues(config)
    assert declared[DEAD_LETTER_QUEUE]["type"] == "quorum"
    retries = [q for n, q in declared.items() if ".retry." in n]
    assert retries and all(q["type"] == "quorum" for q in retries)

    Flaky.broken = False
    assert cli.replay(channel, [event["event_id"]]) == 1
    wait_until(lambda: Flaky.handled == [event["event_id"]], message="replayed event handled")


def test_a_message_no_consumer_survives_is_parked_after_the_delivery_limit(
    container_factory, config
):
    """As a message whose handling kills the process every time: each delivery ends
    without an acknowledgement; after the limit the broker parks it, and the operator
    CLI names the queue it came from."""
    container = container_factory(FlakyService, config)
    container.start()
    queue_name = next(n for n in queues(config) if n.startswith("evt-community-member_regis"))
    container.stop()
    event = publish(config, "community", "member_registered", {"member_id": "m-poison"})
    with kombu.Connection(config["AMQP_URI"]) as connection:
        queue = kombu.Queue(queue_name, channel=connection.channel())
        for _ in range(3):  # the first delivery and two redeliveries (the limit is 2)
            message = wait_until(lambda: queue.get(no_ack=False), timeout=10, message="delivery")
            message.requeue()
    channel = _channel(config)
    parked = wait_until(lambda: cli.dead_letters(channel), timeout=15, message="dead letter")
    assert parked[0][0] == event["event_id"]
    assert cli._origin(dict(parked[0][1])) == queue_name


def test_a_queue_of_the_other_type_holds_the_service_back_with_a_clear_line_until_migrated(
    container_factory, config, caplog
):
    classic = container_factory(OrdersService, {**config, "KOMPOR_QUEUE_TYPE": "classic"})
    classic.start()
    classic.stop()
    assert queues(config)["rpc-orders"]["type"] == "classic"
    caplog.set_level(logging.ERROR, logger="services.common.consumer")
    quorum = container_factory(OrdersService, config)
    starting = eventlet.spawn(quorum.start)
    wait_until(
        lambda: any("delete_queue" in r.getMessage() for r in caplog.records),
        timeout=15,
        message="the line saying how to migrate",
    )
    assert not starting.dead, "the service went on consuming a queue of the wrong type"

    vhost = urllib.parse.quote(vhost_of(config), safe="")
    for name, queue in queues(config).items():  # the operator's step
        if queue["type"] == "classic" and name != DEAD_LETTER_QUEUE:
            requests.delete(f"{MACHINE.management_api}/queues/{vhost}/{name}", timeout=10)
    with eventlet.Timeout(30):
        starting.wait()
    assert queues(config)["rpc-orders"]["type"] == "quorum"
