"""``python -m services.common.probe <service>``: the exec probe of every backend's pod
(deploy/k8s) answers 0 when the service answers its health RPC in time, 1 when it
does not, logged in as the service's own broker user (deploy/rabbitmq/definitions.json)
with quorum queues, as in production."""

import subprocess
import sys
import time

import pytest
from nameko.testing.utils import find_free_port

from services.common.topology import BACKENDS
from tests.conftest import ALL_SERVICES
from tests.support.broker_users import BrokerUsers
from tests.support.processes import Vhost

DEADLINE = 2.0


@pytest.fixture
def users():
    with Vhost() as vhost, BrokerUsers(vhost) as users:
        yield users


def probe(service, amqp_uri):
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "services.common.probe", service, "--deadline", str(DEADLINE)],
        env={"AMQP_URI": amqp_uri, "PATH": ""},
        capture_output=True,
        text=True,
        timeout=30,
    )
    return result.returncode, result.stderr, time.monotonic() - started


def test_each_backend_running_as_its_own_user_passes_its_probe(container_factory, config, users):
    for service in BACKENDS:
        own = {**config, "AMQP_URI": users.amqp_uri(service), "KOMPOR_QUEUE_TYPE": "quorum"}
        container_factory(ALL_SERVICES[service], own).start()
    for service in BACKENDS:
        code, stderr, _ = probe(service, users.amqp_uri(service))
        assert code == 0, f"{service}: {stderr}"


def test_a_backend_that_does_not_answer_fails_its_probe_within_the_deadline(users):
    code, stderr, took = probe("orders", users.amqp_uri("orders"))
    assert code == 1
    assert "orders did not answer its health call" in stderr
    assert took < DEADLINE + 5


def test_the_probe_reaches_the_broker_past_a_dead_node_listed_first(
    container_factory, config, users
):
    container_factory(ALL_SERVICES["orders"], config).start()
    dead = f"amqp://guest:guest@127.0.0.1:{find_free_port()}/"
    code, stderr, _ = probe("orders", f"{dead};{config['AMQP_URI']}")
    assert code == 0, stderr


def test_the_probe_refuses_a_service_that_does_not_exist():
    code, stderr, _ = probe("nonexistent", "amqp://guest:guest@127.0.0.1:5672/")
    assert code == 2
    assert "invalid choice" in stderr
