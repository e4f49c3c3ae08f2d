"""Operating the stack (README "Operating it"): one request followed by its id through
every service's logs and its events' headers, every service's metrics, the backlog at
a glance while a service is down, and no secrets in any log line. The services run as
processes with the commands `make run` uses, logging JSON."""

import io
import json
import re
import uuid

import pika
import pytest
import requests
from nameko.testing.utils import find_free_port
from prometheus_client.parser import text_string_to_metric_families

from services.common import cli
from services.common.topology import BACKENDS, SERVICES
from tests.support.api import DEFAULT_PASSWORD, KOMPOR_ADMIN_PASSWORD, KOMPOR_ADMIN_PHONE, e164
from tests.support.processes import ProcessStack, Vhost, e2e_env
from tests.support.reliability import open_market, order_body
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack(tmp_path_factory, sink):
    tmp_path = tmp_path_factory.mktemp("operability")
    with Vhost() as vhost:
        env = e2e_env(
            vhost,
            tmp_path / "var",
            sink.url,
            KOMPOR_LOG_FORMAT="json",
            KOMPOR_ADMIN_PHONE=KOMPOR_ADMIN_PHONE,
            KOMPOR_ADMIN_PASSWORD=KOMPOR_ADMIN_PASSWORD,
        )
        ports = {}
        while len(set(ports.values())) < len(BACKENDS):  # one port each, never shared
            ports = {name: find_free_port() for name in BACKENDS}
        logs = tmp_path / "logs"
        logs.mkdir()
        stack = ProcessStack(
            env,
            logs,
            service_env={name: {"KOMPOR_METRICS_PORT": str(port)} for name, port in ports.items()},
        )
        stack.vhost, stack.metrics_ports = vhost, ports
        stack.start().wait_ready()
        try:
            yield stack
        finally:
            stack.stop()


@pytest.fixture(scope="module")
def market(stack):
    admin = stack.api.login(KOMPOR_ADMIN_PHONE, KOMPOR_ADMIN_PASSWORD)
    return open_market(stack.api, admin, sellers=1, products_each=1, buyers=1)


class EventTap:
    """A queue of the test's own bound to every backend's events, to read their
    headers."""

    def __init__(self, amqp_uri):
        self.connection = pika.BlockingConnection(pika.URLParameters(amqp_uri))
        self.channel = self.connection.channel()
        self.queue = self.channel.queue_declare(queue="", exclusive=True).method.queue
        for service in BACKENDS:
            exchange = f"{service}.events"
            self.channel.exchange_declare(exchange=exchange, exchange_type="topic", durable=True)
            self.channel.queue_bind(queue=self.queue, exchange=exchange, routing_key="#")
        self.seen = []

    def read(self):
        while True:
            method, properties, body = self.channel.basic_get(self.queue, auto_ack=True)
            if method is None:
                return self.seen
            event = json.loads(body)
            self.seen.append((method.routing_key, properties.headers or {}, event))

    def close(self):
        self.connection.close()


def traced(stack, request_id):
    out = io.StringIO()
    cli.main(["trace", request_id, "--logs", str(stack.logs_dir)], out=out)
    return out.getvalue()


def services_in(trace):
    return {line.split()[0] for line in trace.splitlines()[:-1] if line and line[0] != " "}


def test_an_order_is_followed_by_its_request_id_through_every_service(stack, market):
    tap = EventTap(stack.vhost.amqp_uri)
    request_id = f"order-{uuid.uuid4().hex[:12]}"
    buyer = market.buyers[0].client
    placed = buyer.post(
        "/api/v1/orders",
        json=order_body(market, list(market.products), quantity=1),
        headers={"Idempotency-Key": str(uuid.uuid4()), "X-Request-ID": request_id},
    )
    assert placed.status_code == 201, placed.text
    assert placed.headers["X-Request-ID"] == request_id
    order_id = placed.json()["id"]
    try:
        wait_until(
            lambda: (
                {"order_placed", "stock_reserved", "order_confirmed"}
                <= {key for key, headers, event in tap.read() if _about(event, order_id)}
            ),
            timeout=30,
            message="the order's events",
        )
        for routing_key, headers, event in tap.seen:
            if _about(event, order_id):
                assert headers.get("correlation_id") == request_id, routing_key
    finally:
        tap.close()
    wanted = {"gateway", "orders", "catalogue", "notifications"}
    wait_until(
        lambda: wanted <= services_in(traced(stack, request_id)),
        timeout=30,
        message=f"the request in the logs of {wanted}",
    )
    trace = traced(stack, request_id)
    lines = trace.splitlines()[:-1]
    times = [line.split()[1] for line in lines if line[0] != " "]
    assert times == sorted(times)
    assert "place_order" in trace and "notification" in trace
    for name in wanted:
        records = [
            json.loads(line)
            for line in (stack.logs_dir / f"{name}.log").read_text().splitlines()
            if line.startswith("{") and request_id in line
        ]
        assert records and all(r["request_id"] == request_id for r in records), name
        assert all(r["service"] == name for r in records), name


def _about(event, order_id):
    return event.get("data", {}).get("order_id") == order_id


def test_a_forged_request_id_is_replaced_and_every_error_carries_the_id(stack):
    forged = "<script>" + "x" * 500
    answer = stack.api.get("/api/v1/no-such-thing", headers={"X-Request-ID": forged})
    assert answer.status_code == 404
    given = answer.headers["X-Request-ID"]
    assert given != forged and 0 < len(given) <= 64 and given.isalnum()
    assert answer.json()["error"]["request_id"] == given
    kept = stack.api.get("/api/v1/no-such-thing", headers={"X-Request-ID": "abc-123.x"})
    assert kept.headers["X-Request-ID"] == kept.json()["error"]["request_id"] == "abc-123.x"


def scrape(url):
    response = requests.get(url, timeout=10)
    assert response.status_code == 200, url
    assert response.headers["Content-Type"].startswith("text/plain")
    return {family.name: family for family in text_string_to_metric_families(response.text)}


def samples(families, name, **labels):
    """The values of ``name``'s samples with these labels (a counter's family is named
    without its ``_total``)."""
    return [
        sample.value
        for sample in families[name.removesuffix("_total")].samples
        if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items())
    ]


def test_every_service_s_metrics_parse_and_count_what_it_did(stack, market):
    gateway = scrape(f"{stack.api.base_url}/metrics")
    for name in BACKENDS:
        assert samples(gateway, "kompor_service_ready", service=name) == [1.0]
    routes = {sample.labels["route"] for sample in gateway["kompor_http_requests"].samples}
    assert "/api/v1/orders" in routes and "/api/v1/products/<product_id>/approve" in routes
    backends = {
        name: scrape(f"http://127.0.0.1:{port}/metrics")
        for name, port in stack.metrics_ports.items()
    }
    for name, families in backends.items():
        assert samples(families, "kompor_service_info", service=name) == [1.0], "not its own"
    assert set(backends) | {"gateway"} == set(SERVICES)
    orders = backends["orders"]
    assert sum(samples(orders, "kompor_rpc_calls_total", method="place_order", outcome="ok")) >= 1
    assert samples(orders, "kompor_store_up", service="orders") == [1.0]
    assert samples(orders, "kompor_outbox_waiting", service="orders", collection="orders") == [0]
    catalogue = backends["catalogue"]
    handled = samples(catalogue, "kompor_events_handled_total", event_type="order_placed")
    assert sum(handled) >= 1, catalogue["kompor_events_handled"].samples
    notifications = backends["notifications"]
    assert sum(samples(notifications, "kompor_notifications_total", status="sent")) >= 1
    wrong = stack.api.post(
        "/api/v1/auth/token", json={"phone": market.buyers[0].phone, "password": "salah-sekali"}
    )
    assert wrong.status_code == 401
    community = scrape(f"http://127.0.0.1:{stack.metrics_ports['community']}/metrics")
    assert samples(community, "kompor_login_failures_total")[0] >= 1
    for families in (gateway, *backends.values()):
        for family in families.values():
            for sample in family.samples:
                for value in sample.labels.values():
                    assert not any(member.id in value for member in market.members)
                    assert not any(member.phone in value for member in market.members)


def test_the_backlog_of_a_stopped_service_shows_in_status_and_drains_when_it_returns(stack, market):
    def place():
        placed = market.buyers[0].client.post(
            "/api/v1/orders",
            json=order_body(market, list(market.products), quantity=1),
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        assert placed.status_code == 201, placed.text

    def notifications():
        return status(stack)["services"]["notifications"]

    stack.stop("notifications")
    try:
        place()
        first = wait_until(
            lambda: (n := notifications())["waiting"] >= 1 and n,
            timeout=30,
            message="events waiting for notifications",
        )
        assert first["ready"] is False
        assert any(queue.startswith("evt-orders-") for queue in first["queues"])
        place()
        place()
        wait_until(
            lambda: notifications()["waiting"] > first["waiting"],
            timeout=30,
            message="the backlog growing",
        )
        gateway = scrape(f"{stack.api.base_url}/metrics")
        assert samples(gateway, "kompor_service_ready", service="notifications") == [0.0]
        text = io.StringIO()
        cli.print_status(status(stack), text)
        assert re.search(r"notifications +NO +\d+", text.getvalue())
    finally:
        stack.start("notifications")
    wait_until(
        lambda: (
            (n := notifications())["ready"]
            and n["waiting"] == 0
            and n["backlog"]["notifications_waiting"] == 0
        ),
        timeout=60,
        message="notifications back, its queues drained and its messages sent",
    )
    assert notifications()["backlog"]["outbox_waiting"] == 0
    port = stack.metrics_ports["notifications"]
    drained = scrape(f"http://127.0.0.1:{port}/metrics")
    assert samples(drained, "kompor_backlog", what="notifications_waiting") == [0.0]


def status(stack):
    return cli.status(stack.vhost.amqp_uri)


def test_no_log_line_holds_a_password_a_token_or_a_full_phone_number(stack, market):
    logs = "\n".join(path.read_text() for path in stack.logs_dir.glob("*.log"))
    assert logs, "the services logged nothing"
    for member in market.members:
        assert member.phone not in logs and member.phone.removeprefix("+") not in logs
        token = member.client.session.headers.get("Authorization", "").partition(" ")[2]
        assert not token or token not in logs
    assert e164(KOMPOR_ADMIN_PHONE) not in logs and KOMPOR_ADMIN_PHONE not in logs
    assert KOMPOR_ADMIN_PASSWORD not in logs and DEFAULT_PASSWORD not in logs
    for line in logs.splitlines():
        if line.startswith("{"):
            record = json.loads(line)
            assert {"time", "level", "service", "logger", "message"} <= set(record)
