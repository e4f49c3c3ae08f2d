"""Each service's RabbitMQ user (``deploy/rabbitmq/definitions.json``) may do what its
service does and nothing that would let it speak for another service.

The compose wiring test runs the whole stack with these users; here are the paths
a happy run does not take (a handler's retry and its dead letter) and what must be
refused: calling another service, publishing another service's events, reading
another service's queue.
"""

import contextlib

import kombu
import pytest
from amqp.exceptions import AccessRefused
from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR

from services.catalogue.service import CatalogueService
from services.common.events import Subscriber, dead_letter_queue, retry_queue
from services.community.service import CommunityService
from services.notifications.service import NotificationsService
from services.orders.service import OrdersService
from tests.support.broker_users import BrokerUsers
from tests.support.processes import Vhost

SUBSCRIPTIONS = {
    "community": "evt-orders-order_placed--community.handle_order_placed",
    "catalogue": "evt-orders-order_placed--catalogue.handle_order_placed",
    "orders": "evt-catalogue-stock_reserved--orders.handle_stock_reserved",
    "notifications": "evt-community-member_registered--notifications.handle_member_registered",
}
RPC_EXCHANGE = kombu.Exchange("nameko-rpc", type="topic", durable=True)


def subscriptions():
    """``(service, source_service, event_type, method)`` of every ``@subscribe`` handler
    the services declare, read off the classes so a new one is checked too."""
    found = []
    for service in (CommunityService, CatalogueService, OrdersService, NotificationsService):
        for method, handler in vars(service).items():
            for entrypoint in getattr(handler, ENTRYPOINT_EXTENSIONS_ATTR, ()):
                if isinstance(entrypoint, Subscriber):
                    source, event = entrypoint.source_service, entrypoint.event_type
                    found.append((service.name, source, event, method))
    return sorted(found)


@pytest.fixture(scope="module")
def users():
    """The users on a fresh vhost where the services' exchanges exist (the services
    declare them; here the operator does)."""
    with Vhost() as vhost, BrokerUsers(vhost) as users:
        with logged_in(users, "admin") as channel:
            RPC_EXCHANGE(channel).declare()
            for service in ("community", "catalogue", "orders"):
                kombu.Exchange(f"{service}.events", type="topic", durable=True)(channel).declare()
        yield users


@contextlib.contextmanager
def logged_in(users, user):
    connection = kombu.Connection(users.amqp_uri(user), transport_options={"confirm_publish": True})
    with connection:
        yield connection.channel()


def publish(channel, exchange, routing_key, declare=()):
    kombu.Producer(channel).publish(
        {"probe": True}, exchange=exchange, routing_key=routing_key, declare=list(declare)
    )


@pytest.mark.parametrize("service", sorted(SUBSCRIPTIONS))
def test_a_subscriber_may_retry_and_park_events_of_its_own_handlers(users, service):
    origin = SUBSCRIPTIONS[service]
    with logged_in(users, service) as channel:
        kombu.Queue(
            origin,
            exchange=kombu.Exchange(f"{origin.split('-')[1]}.events", type="topic", durable=True),
            routing_key=origin.split("-")[2],
            durable=True,
        )(channel).declare()
        retry = retry_queue(origin, 0.5, {})
        publish(channel, retry.exchange, retry.routing_key, declare=[retry])
        parked = dead_letter_queue({})
        publish(channel, parked.exchange, parked.routing_key, declare=[parked])


@pytest.mark.parametrize(("service", "source", "event", "method"), subscriptions())
def test_a_subscriber_may_bind_every_queue_it_consumes(users, service, source, event, method):
    with logged_in(users, service) as channel:
        kombu.Queue(
            f"evt-{source}-{event}--{service}.{method}",
            exchange=kombu.Exchange(f"{source}.events", type="topic", durable=True),
            routing_key=event,
            durable=True,
        )(channel).declare()


@pytest.mark.parametrize("service", ["community", "catalogue", "orders", "notifications"])
def test_a_service_answers_calls_but_cannot_make_one(users, service):
    with logged_in(users, service) as channel:
        publish(channel, RPC_EXCHANGE, "6f1c2c8e-9a41-4d7b-8a7e-2f0e3c1d5b9a")  # a reply
    with logged_in(users, service) as channel, pytest.raises(AccessRefused):
        publish(channel, RPC_EXCHANGE, "community.make_admin")


@pytest.mark.parametrize(
    ("user", "exchange"),
    [("orders", "community.events"), ("gateway", "orders.events"), ("catalogue", "orders.events")],
)
def test_a_service_cannot_publish_another_services_events(users, user, exchange):
    with logged_in(users, user) as channel, pytest.raises(AccessRefused):
        publish(channel, kombu.Exchange(exchange, type="topic", durable=True), "order_paid")


@pytest.mark.parametrize(
    ("user", "queue"),
    [
        ("orders", "rpc-community"),
        ("gateway", "rpc-orders"),
        ("notifications", "evt-orders-order_placed--catalogue.handle_order_placed"),
        ("catalogue", "kompor.dead_letters"),
    ],
)
def test_a_service_cannot_read_another_services_queue(users, user, queue):
    with logged_in(users, "admin") as channel:
        kombu.Queue(queue, durable=True)(channel).declare()
    with logged_in(users, user) as channel, pytest.raises(AccessRefused):
        channel.basic_get(queue)


@pytest.mark.parametrize("user", ["gateway"])
def test_a_service_that_retries_nothing_cannot_drop_messages_into_queues(users, user):
    with logged_in(users, user) as channel, pytest.raises(AccessRefused):
        publish(channel, kombu.Exchange(""), "rpc-community")


def test_the_gateway_may_call_services_and_nothing_else(users):
    with logged_in(users, "gateway") as channel:
        publish(channel, RPC_EXCHANGE, "orders.place_order")
    with logged_in(users, "gateway") as channel, pytest.raises(AccessRefused):
        publish(channel, RPC_EXCHANGE, "6f1c2c8e-9a41-4d7b-8a7e-2f0e3c1d5b9a")


def test_orders_may_make_a_counter_sale_s_one_call_to_catalogue_and_no_other(users):
    """A counter sale takes its stock from catalogue at once: that one method, and a
    reply queue of orders' own for the answer."""
    with logged_in(users, "orders") as channel:
        reply_queue = kombu.Queue(
            "rpc.reply-orders-6f1c2c8e-9a41-4d7b-8a7e-2f0e3c1d5b9a",
            exchange=RPC_EXCHANGE,
            routing_key="6f1c2c8e-9a41-4d7b-8a7e-2f0e3c1d5b9a",
            auto_delete=True,
        )
        reply_queue(channel).declare()
        publish(channel, RPC_EXCHANGE, "catalogue.sell_at_counter")
        channel.basic_get(reply_queue.name)
    for routing_key in ("catalogue.change_stock", "community.get_roles"):
        with logged_in(users, "orders") as channel, pytest.raises(AccessRefused):
            publish(channel, RPC_EXCHANGE, routing_key)


def test_messaging_may_call_community_catalogue_and_orders_and_no_other_service(users):
    """Messaging runs a member's command with the RPC the gateway would call, and asks
    community which broadcast an order answers (``broadcast_for_reply``)."""
    for routing_key in (
        "community.actor_for_phone",
        "community.broadcast_for_reply",
        "catalogue.get_product_by_code",
        "orders.place_order",
    ):
        with logged_in(users, "messaging") as channel:
            publish(channel, RPC_EXCHANGE, routing_key)
    for routing_key in ("notifications.broadcast_counts", "ledger.list_entries"):
        with logged_in(users, "messaging") as channel, pytest.raises(AccessRefused):
            publish(channel, RPC_EXCHANGE, routing_key)
