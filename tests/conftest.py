"""Fixtures shared by the integration and e2e suites.

Integration tests run the services in-process on the real local RabbitMQ, each test
in a fresh vhost (nameko's ``rabbit_config`` fixture, through the management API),
with ``MONGO_URI=memory://<unique>``.
"""

import eventlet

eventlet.monkey_patch()  # before anything opens a socket; nameko runs on eventlet

import uuid

import pytest
from argon2 import PasswordHasher
from nameko.testing.utils import find_free_port

from services.catalogue.service import CatalogueService
from services.common import auth
from services.community.service import CommunityService
from services.gateway.service import GatewayService
from services.ledger.service import LedgerService
from services.messaging.service import MessagingService
from services.notifications.service import NotificationsService
from services.orders.service import OrdersService
from tests.support.api import KOMPOR_ADMIN_PASSWORD, KOMPOR_ADMIN_PHONE, Api
from tests.support.community import hub_with_coordinator
from tests.support.events import EventLog
from tests.support.inbound import INBOUND_WEBHOOK_SECRET
from tests.support.notifications import Events, Log
from tests.support.orders import Catalogue
from tests.support.sink import HttpSink
from tests.support.smtp import SmtpSink
from tests.support.waiting import wait_until

ALL_SERVICES = {
    "community": CommunityService,
    "catalogue": CatalogueService,
    "orders": OrdersService,
    "notifications": NotificationsService,
    "messaging": MessagingService,
    "ledger": LedgerService,
    "gateway": GatewayService,
}

FAST_TIMINGS = {
    "KOMPOR_RPC_TIMEOUT": 3,
    "KOMPOR_RETRY_DELAYS": "0.2,0.4,0.8",
    "KOMPOR_OUTBOX_SWEEP_SECONDS": 0.3,
    "KOMPOR_DELIVERY_BASE_DELAY": 0.3,
    "KOMPOR_DELIVERY_MAX_DELAY": 1,
    "KOMPOR_DELIVERY_MAX_ATTEMPTS": 100,
}

# every request of a test comes from 127.0.0.1, far faster than a person: the limiter
# has its own test with a small limit
TEST_RATE_LIMIT = {"KOMPOR_RATE_LIMIT": 10_000, "KOMPOR_RATE_BURST": 10_000}


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch):
    """Argon2id at its production cost takes ~0.5 s per hash on a small machine and
    every test member registers and logs in: tests keep the algorithm, not the cost."""
    monkeypatch.setattr(
        auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


@pytest.fixture(scope="module")
def sink():
    """One SMS provider stand-in for a module whose stack of processes it outlives."""
    with HttpSink() as sink:
        yield sink


@pytest.fixture
def sms_sink():
    with HttpSink() as sink:
        yield sink


@pytest.fixture
def whatsapp_sink():
    with HttpSink() as sink:
        yield sink


@pytest.fixture
def smtp_sink():
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def config(rabbit_config, tmp_path, sms_sink):
    """A service config: fresh vhost, fresh in-memory store, fast retries."""
    return {
        **rabbit_config,
        # nameko's fixture says pyamqp://; pika (the operator CLI) knows amqp://
        "AMQP_URI": rabbit_config["AMQP_URI"].replace("pyamqp://", "amqp://", 1),
        **FAST_TIMINGS,
        **TEST_RATE_LIMIT,
        "MONGO_URI": f"memory://{uuid.uuid4().hex}",
        "KOMPOR_DATA_DIR": str(tmp_path / "var"),
        "KOMPOR_SECRET_KEY": "test-secret-of-at-least-32-characters",
        "WEB_SERVER_ADDRESS": f"127.0.0.1:{find_free_port()}",
        "SMS_GATEWAY_URL": sms_sink.url,
        "INBOUND_WEBHOOK_SECRET": INBOUND_WEBHOOK_SECRET,
        "KOMPOR_ADMIN_PHONE": KOMPOR_ADMIN_PHONE,
        "KOMPOR_ADMIN_PASSWORD": KOMPOR_ADMIN_PASSWORD,
        "serializer": "json",
    }


class Stack:
    """The seven services in this process, behind a gateway client."""

    def __init__(self, container_factory, config):
        self.container_factory = container_factory
        self.config = config
        self.containers = {}
        self.api = Api(f"http://{config['WEB_SERVER_ADDRESS']}")

    def start(self, *names):
        for name in names or ALL_SERVICES:
            container = self.container_factory(ALL_SERVICES[name], self.config)
            container.start()
            self.containers[name] = container
        return self

    def stop(self, name):
        self.containers.pop(name).stop()

    def wait_ready(self):
        wait_until(
            lambda: self.api.get("/readyz").status_code == 200, timeout=15, message="/readyz"
        )
        return self


@pytest.fixture
def stack(container_factory, config):
    return Stack(container_factory, config).start().wait_ready()


@pytest.fixture
def api(stack):
    return stack.api


@pytest.fixture
def admin(api):
    """A client logged in as the bootstrap admin."""
    return api.login(KOMPOR_ADMIN_PHONE, KOMPOR_ADMIN_PASSWORD)


@pytest.fixture
def hub(api, admin):
    """A hub with a coordinator: ``hub.hub_id``, ``hub.coordinator`` (a client)."""
    return hub_with_coordinator(api, admin)


@pytest.fixture
def community_events(config):
    """Every event ``community`` publishes from now on (``tests.support.events``)."""
    log = EventLog(config, "community")
    yield log
    log.close()


@pytest.fixture
def events(stack):
    """Publishes events as their owners would: ``events.publish("orders", "order_placed",
    data)`` (``tests.support.notifications.Events``)."""
    return Events(stack.config)


@pytest.fixture
def log(stack):
    """What the notifications service knows and did (``tests.support.notifications.Log``)."""
    return Log(stack.config)


@pytest.fixture
def catalogue(config):
    """Catalogue's events, published by the test where it plays catalogue's part
    (``tests.support.orders.Catalogue``)."""
    return Catalogue(config)
