"""Request ids, log records and their formats, the trace and status helpers of the
operator CLI, and the Prometheus configuration's shape."""

import io
import json
import logging
import pathlib
import re
import sys

import pytest
import yaml
from pymongo.errors import ServerSelectionTimeoutError

from services.common import cli, logs, metrics, tracing
from services.common.envelope import make_event
from services.common.phone import mask_phone
from services.common.service import HealthMixin
from services.common.storage import Repository
from services.common.topology import SERVICES

ROOT = pathlib.Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "deploy" / "prometheus"


@pytest.fixture(autouse=True)
def _service_name_restored():
    before = logs.service_name()
    yield
    logs.set_service(before)


@pytest.mark.parametrize(
    "given",
    ["3f2a9c", "order-1.retry:2", "A" * 64, "0" * 64, "e3b0c442-98fc-1c14-9afb-f4c8996fb924"],
)
def test_a_request_id_of_safe_characters_and_bounded_length_is_kept(given):
    assert tracing.request_id_from(given) == given


@pytest.mark.parametrize(
    "given",
    [
        None,
        "",
        "A" * 65,
        "x" * 10_000,
        "<script>alert(1)</script>",
        "id with spaces",
        "line\nbreak",
        "-starts-with-a-dash",
        "ünïcode",
        "a\x00b",
        b"\xff\xfe",
    ],
)
def test_a_missing_forged_huge_or_odd_request_id_is_replaced_by_a_new_one(given):
    made = tracing.request_id_from(given)
    assert made != given and re.fullmatch(r"[0-9a-f]{32}", made)


def test_two_new_request_ids_differ():
    assert tracing.request_id_from(None) != tracing.request_id_from(None)


def test_an_event_written_while_handling_a_request_carries_its_id():
    assert "correlation_id" not in make_event("order_placed", {})
    token = tracing.enter(request_id="req-1")
    try:
        assert make_event("order_placed", {})["correlation_id"] == "req-1"
    finally:
        tracing.leave(token)
    assert tracing.current() == {}


def record(message, *args, exc_info=None, **extra):
    made = logging.LogRecord(
        "services.orders.service", logging.INFO, __file__, 1, message, args, exc_info
    )
    made.__dict__.update(extra)
    return made


def filtered(made):
    assert logs.ContextFilter().filter(made)
    return made


def test_the_filter_puts_the_service_request_and_event_on_every_record():
    logs.set_service("orders")
    token = tracing.enter(request_id="req-7", event_type="catalogue.stock_reserved", event_id="e1")
    try:
        made = filtered(record("stock answered"))
    finally:
        tracing.leave(token)
    assert (made.service, made.request_id, made.event_type, made.event_id) == (
        "orders",
        "req-7",
        "catalogue.stock_reserved",
        "e1",
    )
    outside = filtered(record("timer ran"))
    assert (outside.request_id, outside.event_type, outside.event_id) == ("", "", "")


def test_json_lines_hold_time_level_service_logger_message_and_what_is_known():
    logs.set_service("orders")
    token = tracing.enter(request_id="req-7", event_type="orders.order_placed", event_id="e1")
    try:
        line = logs.formatter("json").format(filtered(record("placed %s", "order-1")))
    finally:
        tracing.leave(token)
    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed == {
        "time": parsed["time"],
        "level": "INFO",
        "service": "orders",
        "logger": "services.orders.service",
        "message": "placed order-1",
        "request_id": "req-7",
        "event_type": "orders.order_placed",
        "event_id": "e1",
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", parsed["time"])
    assert set(json.loads(logs.formatter("json").format(filtered(record("x"))))) == {
        "time",
        "level",
        "service",
        "logger",
        "message",
    }


def test_a_json_line_keeps_a_traceback_on_its_one_line():
    try:
        raise ValueError("boom\nsecond line")
    except ValueError:
        made = filtered(record("failed", exc_info=sys.exc_info()))
    line = logs.formatter("json").format(made)
    assert "\n" not in line and "ValueError: boom" in json.loads(line)["exception"]


def test_text_lines_stay_readable_and_name_the_request_when_known():
    logs.set_service("gateway")
    token = tracing.enter(request_id="req-9")
    try:
        line = logs.formatter("text").format(filtered(record("GET /readyz 200")))
    finally:
        tracing.leave(token)
    assert re.fullmatch(
        r"\S+Z INFO gateway services\.orders\.service \[req req-9\]: GET /readyz 200", line
    )
    assert "[req" not in logs.formatter().format(filtered(record("no request")))


@pytest.mark.parametrize("style", ["text", "json"])
def test_phone_numbers_and_bearer_tokens_are_masked_in_any_message(style):
    made = filtered(
        record(
            "to %s or %s, header %s, order %s",
            "+6281234567890",
            "081234567890",
            "Authorization: Bearer eyJhbGciOi.abc-def_123",
            "3f2a0123456789ab",
        )
    )
    line = logs.formatter(style).format(made)
    for secret in ("6281234567890", "81234567890", "eyJhbGciOi", "abc-def_123"):
        assert secret not in line
    assert "+62********890" in line and "3f2a0123456789ab" in line


@pytest.mark.parametrize(
    ("written", "digits"),
    [
        ("0812-3456-7890", "3456"),
        ("+62 812 3456 7890", "3456"),
        ("62 812-3456-789", "3456"),
        ("0812 345 6789", "345 6"),
    ],
)
def test_phone_numbers_written_with_spaces_or_dashes_are_masked_too(written, digits):
    line = logs.formatter().format(filtered(record("registered %s", written)))
    assert digits not in line and written not in line


def test_dates_times_and_ids_are_not_taken_for_phone_numbers():
    text = "2026-12-02 10:00:00 order 3f2a0123456789ab total 150000 hub 0812abc"
    assert logs.masked(text) == text


def test_a_masked_phone_keeps_only_its_country_code_and_last_three_digits():
    assert mask_phone("+6281234567890") == "+62********890"
    assert mask_phone("12") == "***"


def test_trace_prints_one_request_s_records_from_every_log_in_time_order(tmp_path):
    (tmp_path / "orders.log").write_text(
        '{"time": "2026-12-02T10:00:00.200Z", "level": "INFO", "service": "orders", '
        '"logger": "kompor.work", "message": "rpc place_order ok", "request_id": "r1"}\n'
        '{"time": "2026-12-02T10:00:00.300Z", "level": "INFO", "service": "orders", '
        '"logger": "kompor.work", "message": "another request", "request_id": "r2"}\n'
        "not a record: a warning printed by a library\n"
    )
    (tmp_path / "gateway.log").write_text(
        "2026-12-02T10:00:00.100Z INFO gateway kompor.access [req r1]: POST /api/v1/orders\n"
        "2026-12-02T10:00:00.400Z ERROR gateway kompor.access [req r1]: failed\n"
        "Traceback (most recent call last):\n"
        "  ValueError: boom\n"
        "2026-12-02T10:00:00.500Z INFO gateway kompor.access [req r2]: GET /api/v1/me\n"
    )
    out = io.StringIO()
    assert cli.main(["trace", "r1", "--logs", str(tmp_path)], out=out) == 0
    lines = out.getvalue().splitlines()
    assert [line.split()[0] for line in lines[:3]] == ["gateway", "orders", "gateway"]
    assert "POST /api/v1/orders" in lines[0] and "rpc place_order ok" in lines[1]
    assert "failed" in lines[2] and lines[3:5] == [
        "Traceback (most recent call last):",
        "  ValueError: boom",
    ]
    assert "r2" not in out.getvalue() and lines[-1].startswith("3 record(s)")
    assert cli.main(["trace", "nobody", "--logs", str(tmp_path)], out=io.StringIO()) == 1


@pytest.mark.parametrize(
    ("queue", "owner"),
    [
        ("rpc-orders", "orders"),
        ("evt-orders-order_placed--notifications.handle_order_placed", "notifications"),
        ("evt-orders-order_placed--catalogue.handle_order_placed.retry.500ms", "catalogue"),
        ("kompor.dead_letters", None),
        ("rpc.reply-standalone_rpc_proxy-1", None),
    ],
)
def test_status_counts_each_queue_for_the_service_consuming_it(queue, owner):
    assert cli.owner_of(queue) == owner


def test_status_finds_the_management_api_next_to_the_broker(monkeypatch):
    monkeypatch.delenv(cli.RABBITMQ_API_KEY, raising=False)
    assert cli.management_api("amqp://u:p@broker:5672/kompor-1") == (
        "http://u:p@broker:15672/api",
        "kompor-1",
    )
    assert cli.management_api("amqp://guest:guest@localhost:5672/")[1] == "/"


def test_status_prints_a_line_per_service_and_the_queues_holding_messages():
    report = {
        "services": {
            "orders": {
                "ready": True,
                "store": "ok",
                "waiting": 0,
                "queues": {},
                "backlog": {"outbox_waiting": 0, "outbox_oldest_seconds": 0.0},
            },
            "notifications": {
                "ready": False,
                "store": "unknown",
                "waiting": 12,
                "queues": {"evt-orders-order_placed--notifications.h": 12},
                "backlog": {},
            },
        },
        "dead_letters": {"total": 2, "by_queue": {"evt-x--orders.h": 2}},
    }
    out = io.StringIO()
    cli.print_status(report, out)
    text = out.getvalue()
    assert re.search(r"orders +yes +0 +0 +0 s", text)
    assert re.search(r"notifications +NO +12", text)
    assert "12  evt-orders-order_placed--notifications.h" in text
    assert "dead letters: 2" in text and "2  from evt-x--orders.h" in text


def test_the_alert_rules_are_prometheus_rule_groups_with_the_three_alerts_operators_need():
    rules = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())
    assert set(rules) == {"groups"}
    alerts = {}
    for group in rules["groups"]:
        assert set(group) <= {"name", "rules", "interval"} and group["name"]
        for rule in group["rules"]:
            assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, rule
            assert isinstance(rule["expr"], str) and rule["expr"].strip()
            assert rule["labels"]["severity"] in ("warning", "critical")
            assert rule["annotations"]["summary"]
            if "for" in rule:
                assert re.fullmatch(r"\d+[smh]", rule["for"])
            alerts[rule["alert"]] = rule
    assert "kompor_outbox_oldest_seconds" in alerts["OutboxEventsWaiting"]["expr"]
    assert "> 60" in alerts["OutboxEventsWaiting"]["expr"]
    assert "kompor.dead_letters" in alerts["DeadLetters"]["expr"]
    assert alerts["ServiceNotReady"]["for"] == "2m"


def test_prometheus_scrapes_every_service_rabbitmq_and_loads_the_rules():
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    assert config["rule_files"] == ["alerts.yml"]
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    scraped = {
        name
        for job in jobs.values()
        for discovery in job.get("dns_sd_configs", [])
        for name in discovery["names"]
    }
    assert scraped == set(SERVICES), "every service of services/common/topology.py"
    assert jobs["gateway"]["metrics_path"] == "/metrics"
    assert jobs["rabbitmq"]["static_configs"][0]["targets"] == ["rabbitmq:15692"]


def test_compose_runs_prometheus_only_in_the_observability_profile_and_sets_the_port():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    prometheus = compose["services"]["prometheus"]
    assert prometheus["profiles"] == ["observability"]
    assert "./deploy/prometheus:/etc/prometheus:ro" in prometheus["volumes"]
    assert compose["x-environment"]["KOMPOR_METRICS_PORT"] == "9100"


class StoreAway:
    """A database whose every collection fails as an unreachable MongoDB does."""

    def __getitem__(self, name):
        raise ServerSelectionTimeoutError("no store answers")


def test_outbox_metrics_say_the_store_is_away_rather_than_fail_the_scrape():
    families = list(metrics.outbox_probe("orders", StoreAway(), ["orders"])())
    assert [(family.name, [s.value for s in family.samples]) for family in families] == [
        ("kompor_store_up", [0])
    ]


def test_health_answers_with_the_store_unavailable_when_it_does_not_answer():
    class Orders(Repository):
        aggregates = ("orders",)

    class Service(HealthMixin):
        name = "orders"

    service = Service()
    service.store = Orders(StoreAway())
    assert service.health() == {"service": "orders", "status": "ok"}  # readiness: no store
    assert service.health(details=True) == {
        "service": "orders",
        "status": "ok",
        "store": "unavailable",
        "backlog": {},
    }
