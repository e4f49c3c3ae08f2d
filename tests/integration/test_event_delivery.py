"""The nothing-lost machinery of docs/architecture.md §5 and §6: outbox relay, inbox,
retries, dead letters."""

import pika

from services.common import cli
from services.common.envelope import make_event
from services.common.events import subscribe
from services.common.mongo import mongo_client
from services.community.service import CommunityService
from tests.support.events import EventLog, publish
from tests.support.waiting import wait_until


class Flaky:
    """Fails while ``broken`` is set; counts what it handled."""

    broken = True
    handled = []


class FlakyService:
    name = "flaky"

    @subscribe("community", "member_registered")
    def handle_member_registered(self, event):
        if Flaky.broken:
            raise RuntimeError("provider down")
        Flaky.handled.append(event["event_id"])


def _channel(config):
    return pika.BlockingConnection(pika.URLParameters(config["AMQP_URI"])).channel()


def test_a_repeated_event_is_handled_once(container_factory, config):
    Flaky.broken, Flaky.handled = False, []
    container_factory(FlakyService, config).start()
    event = publish(config, "community", "member_registered", {"member_id": "m1"})
    publish(
        config, "community", "member_registered", {"member_id": "m1"}, event_id=event["event_id"]
    )
    wait_until(lambda: Flaky.handled, message="first delivery")
    publish(config, "community", "member_registered", {"member_id": "m2"})
    wait_until(lambda: len(Flaky.handled) == 2, message="a later event")
    assert Flaky.handled.count(event["event_id"]) == 1


def test_a_failing_handler_is_retried_then_parked_and_an_operator_replays_it(
    container_factory, config
):
    Flaky.broken, Flaky.handled = True, []
    container_factory(FlakyService, config).start()
    event = publish(config, "community", "member_registered", {"member_id": "m1"})

    channel = _channel(config)
    parked = wait_until(lambda: cli.dead_letters(channel), timeout=15, message="dead letter")
    message_id, headers, _ = parked[0]
    assert message_id == event["event_id"]
    assert headers["x-kompor-attempts"] == 4  # the first try and three retries
    assert "provider down" in headers["x-kompor-error"]
    assert headers["x-kompor-queue"].startswith("evt-community-member_registered--flaky")
    assert Flaky.handled == []

    Flaky.broken = False
    assert cli.replay(channel, [event["event_id"]]) == 1
    wait_until(lambda: Flaky.handled == [event["event_id"]], message="replayed event handled")
    assert cli.dead_letters(channel) == []


def test_events_left_in_an_outbox_are_swept_out(container_factory, config):
    """As after a crash between the write and the publish: the timer publishes them."""
    members = mongo_client(config)["kompor_community"]["members"]
    entry = make_event("member_updated", {"member_id": "m-crash"})
    members.insert_one(
        {"_id": "m-crash", "phone": "+6281200000001", "version": 1, "outbox": [entry]}
    )
    with EventLog(config, "community") as recorder:
        container_factory(CommunityService, config).start()
        wait_until(lambda: recorder.of_type("member_updated"), message="swept event")
    assert recorder.of_type("member_updated")[0]["event_id"] == entry["event_id"]
    wait_until(
        lambda: members.find_one({"_id": "m-crash"})["outbox"] == [],
        message="outbox cleared after the broker confirmed",
    )


def test_registration_publishes_member_registered_without_the_password(stack):
    with EventLog(stack.config, "community") as recorder:
        _, member = stack.api.as_member(name="Wati")
        event = wait_until(lambda: recorder.of_type("member_registered"))[0]
    assert event["data"]["member_id"] == member["id"]
    assert event["data"]["phone"] == member["phone"]
    assert "password" not in str(event) and "password_hash" not in str(event)
