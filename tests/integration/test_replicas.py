"""Two replicas of orders, catalogue and notifications side by side under a stream of
orders (docs/architecture.md §5, §6): they share the RPC queue and every event queue,
so each request and each event goes to one of them; the inbox, the outbox leases and
the delivery leases make sure nothing is done twice; and stopping one replica of each
while orders keep coming (a rolling update, one pod at a time) refuses nothing.

The replicas run as two containers in this process, sharing the in-process store
(``memory://``): two processes cannot share it, and MongoDB cannot run here.
"""

import collections
import time

import pytest

from tests.conftest import ALL_SERVICES, Stack
from tests.support.api import KOMPOR_ADMIN_PASSWORD, KOMPOR_ADMIN_PHONE
from tests.support.events import EventLog
from tests.support.reliability import (
    FINAL,
    Phones,
    expected_notifications,
    get,
    open_market,
    order_notifications,
    settled,
)
from tests.support.waiting import wait_until

REPLICATED = ("orders", "catalogue", "notifications")
STREAM = 4.0  # seconds of orders before, between and after the stops


class Replicas(Stack):
    """The five services, and a second container of each of ``REPLICATED``; each
    container counts the workers it ran, per entrypoint."""

    def __init__(self, container_factory, config):
        super().__init__(container_factory, config)
        self.replicas = collections.defaultdict(list)
        self.worked = collections.Counter()

    def start_replica(self, name):
        container = self.container_factory(ALL_SERVICES[name], self.config)
        spawn_worker = container.spawn_worker

        def counted(entrypoint, *args, **kwargs):
            self.worked[(id(container), name, entrypoint.method_name)] += 1
            return spawn_worker(entrypoint, *args, **kwargs)

        container.spawn_worker = counted
        container.start()
        self.replicas[name].append(container)
        return container

    def calls(self, container, method):
        return self.worked[(id(container), container.service_name, method)]


@pytest.fixture
def replicas(container_factory, config, sms_sink):
    stack = Replicas(container_factory, config)
    for name in ALL_SERVICES:
        stack.start_replica(name)
    for name in REPLICATED:
        stack.start_replica(name)
    return stack.wait_ready()


def test_two_replicas_share_the_work_and_do_nothing_twice_even_while_one_is_stopped(
    replicas, sms_sink
):
    api = replicas.api
    admin = api.login(KOMPOR_ADMIN_PHONE, KOMPOR_ADMIN_PASSWORD)
    with EventLog(replicas.config, "orders", "catalogue") as published:
        market = open_market(api, admin, sellers=2, products_each=2, buyers=4, scarce_stock=8)
        with Phones(api, market, phones=3, interval=0.3) as phones:
            time.sleep(STREAM)
            # both replicas of each service took their share of requests and events
            for name in REPLICATED:
                for container in replicas.replicas[name]:
                    assert sum(
                        count
                        for (cid, _, _), count in replicas.worked.items()
                        if cid == id(container)
                    ), f"a replica of {name} did nothing"
            for container in replicas.replicas["orders"]:
                assert replicas.calls(container, "place_order"), "RPC not shared"
            # a rolling update: one replica of each stopped while orders keep coming
            for name in REPLICATED:
                replicas.replicas[name].pop(0).stop()
                time.sleep(STREAM / 2)
            time.sleep(STREAM / 2)
        placements = phones.placements
        accepted = {p.order["id"] for p in placements if p.order is not None}
        orders, notifications = wait_until(
            lambda: settled(market, sms_sink, accepted),
            timeout=60,
            interval=0.5,
            message="every order decided and every message sent",
        )
        events = published.drain()

    assert len(placements) >= 20, "too few orders to tell"
    refused = [p.refused for p in placements if p.refused]
    assert not refused, refused[:5]
    retried = [p for p in placements if p.attempts > 1]
    assert not retried, f"{len(retried)} orders had to be sent again during the stops"
    assert all(len(p.order_ids) == 1 for p in placements if p.order)
    assert len(orders) == len(accepted) + 1  # and the warm-up order

    # every event was published once (one relay holds each document's lease)
    counts = collections.Counter(event["event_id"] for event in events)
    assert counts and max(counts.values()) == 1, counts.most_common(3)
    # every event was handled once: each order decided once, stock reserved once
    for order in orders.values():
        assert order["status"] in FINAL
        assert sum(entry["status"] in FINAL for entry in order["history"]) == 1, order
    reserved = collections.Counter()
    for order in orders.values():
        if order["status"] == "confirmed":
            for line in order["items"]:
                reserved[line["product_id"]] += line["quantity"]
    for product_id, product in market.products.items():
        stock = get(market.coordinator.client, f"/api/v1/products/{product_id}")["stock"]
        assert stock == product["initial"] - reserved[product_id], product_id
    # every notification was stored once and reached the provider once
    assert order_notifications(notifications) == expected_notifications(orders.values(), market)
    arrived = collections.Counter((m["to"], m["message"]) for m in sms_sink.messages)
    assert arrived and max(arrived.values()) == 1, arrived.most_common(3)
