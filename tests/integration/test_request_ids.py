"""A request's id in the machinery of docs/architecture.md §16: on events the outbox
relay publishes later, on an event's retries and dead letter, in a handler's log
context and the events it writes; and every service's metrics server answering while
the broker is away."""

import logging

import pika
import requests
from nameko.testing.utils import find_free_port
from prometheus_client.parser import text_string_to_metric_families

from services.common import cli, logs, tracing
from services.common.envelope import make_event
from services.common.events import subscribe
from services.common.mongo import mongo_client
from services.common.service import HealthMixin
from services.community.service import CommunityService
from tests.support.events import EventLog, publish
from tests.support.waiting import wait_until


class Seen:
    request_ids = []
    fail = True


class TracedService(HealthMixin):
    name = "traced"

    @subscribe("community", "member_registered")
    def handle_member_registered(self, event):
        Seen.request_ids.append(tracing.current_request_id())
        logging.getLogger("traced").warning("handling %s", event["event_id"])
        if Seen.fail:
            raise RuntimeError("provider down")


def test_events_swept_out_after_a_crash_carry_the_request_id_they_were_written_under(
    container_factory, config
):
    members = mongo_client(config)["kompor_community"]["members"]
    token = tracing.enter(request_id="req-written-before-the-crash")
    try:
        entry = make_event("member_updated", {"member_id": "m-crash"})
    finally:
        tracing.leave(token)
    members.insert_one(
        {"_id": "m-crash", "phone": "+6281200000001", "version": 1, "outbox": [entry]}
    )
    with EventLog(config, "community") as recorder:
        container_factory(CommunityService, config).start()
        wait_until(lambda: recorder.of_type("member_updated"), message="swept event")
    assert recorder.headers[entry["event_id"]]["correlation_id"] == "req-written-before-the-crash"


def test_a_handler_runs_and_logs_under_the_event_s_request_id_through_retries_to_the_dead_letter(
    container_factory, config, caplog
):
    Seen.request_ids, Seen.fail = [], True
    container_factory(TracedService, config).start()
    caplog.handler.addFilter(logs.ContextFilter())  # as deploy/config.yaml's handler has
    with caplog.at_level(logging.WARNING, logger="traced"):
        event = publish(
            config,
            "community",
            "member_registered",
            {"member_id": "m1"},
            headers={"correlation_id": "req-parked"},
        )
        channel = pika.BlockingConnection(pika.URLParameters(config["AMQP_URI"])).channel()
        parked = wait_until(lambda: cli.dead_letters(channel), timeout=15, message="dead letter")
    message_id, headers, _ = parked[0]
    assert message_id == event["event_id"] and headers["correlation_id"] == "req-parked"
    assert Seen.request_ids == ["req-parked"] * 4  # the first try and three retries
    handled = [record for record in caplog.records if record.name == "traced"]
    assert len(handled) == 4
    assert all(record.request_id == "req-parked" for record in handled)
    assert all(record.event_type == "community.member_registered" for record in handled)
    assert all(record.event_id == event["event_id"] for record in handled)


def test_an_event_without_a_request_id_is_handled_without_one(container_factory, config):
    Seen.request_ids, Seen.fail = [], False
    container_factory(TracedService, config).start()
    publish(config, "community", "member_registered", {"member_id": "m2"})
    wait_until(lambda: Seen.request_ids, message="handled")
    assert Seen.request_ids == [None]


def metrics_of(port):
    response = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
    assert response.status_code == 200
    return {family.name for family in text_string_to_metric_families(response.text)}


def test_a_service_s_metrics_answer_while_the_broker_is_away(
    container_factory, config, rabbit_manager
):
    port = find_free_port()
    container_factory(CommunityService, {**config, "KOMPOR_METRICS_PORT": port}).start()
    assert {"kompor_outbox_waiting", "kompor_store_up", "kompor_rpc_calls"} <= metrics_of(port)
    vhost = config["vhost"]
    rabbit_manager.delete_vhost(vhost)  # every connection of the service is closed
    try:
        assert "kompor_outbox_waiting" in metrics_of(port)
    finally:
        rabbit_manager.create_vhost(vhost)
        rabbit_manager.set_vhost_permissions(vhost, config["username"], ".*", ".*", ".*")
