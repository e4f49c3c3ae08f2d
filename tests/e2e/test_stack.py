"""The whole stack as processes (the commands `make run` uses), driven over HTTP,
with a local HTTP sink as the SMS provider."""

import pytest

from tests.support.api import e164, make_member
from tests.support.waiting import holds, wait_until

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack(process_stack):
    return process_stack


def register(api, count):
    members = [make_member(name=f"Anggota {index}") for index in range(count)]
    for payload in members:
        response = api.post("/api/v1/auth/register", json=payload)
        assert response.status_code == 201, response.text
    return members


def phones_of(members):
    return {e164(payload["phone"]) for payload in members}


def sms_to(sink, phones):
    return [message for message in sink.messages if message["to"] in phones]


def test_register_log_in_profile_and_one_welcome_sms(stack, sink):
    payload = register(stack.api, 1)[0]
    me = stack.api.login(payload["phone"]).get("/api/v1/me")
    assert me.status_code == 200 and me.json()["name"] == payload["name"]
    wait_until(lambda: sink.to(me.json()["phone"]), timeout=15, message="welcome SMS")
    assert len(sink.to(me.json()["phone"])) == 1


def test_registrations_made_while_notifications_is_down_are_all_welcomed_once(stack, sink):
    stack.stop("notifications")
    phones = phones_of(register(stack.api, 20))
    stack.start("notifications")
    wait_until(lambda: len(sms_to(sink, phones)) >= 20, timeout=30, message="20 welcome SMS")
    holds(lambda: len(sms_to(sink, phones)) == 20, 2, message="exactly 20 SMS")
    assert {message["to"] for message in sms_to(sink, phones)} == phones


def test_welcomes_wait_out_a_failing_sms_provider(stack, sink):
    sink.fail_for(5)
    phones = phones_of(register(stack.api, 3))
    wait_until(
        lambda: {m["to"] for m in sms_to(sink, phones)} == phones,
        timeout=30,
        message="SMS after the provider recovered",
    )
    holds(lambda: len(sms_to(sink, phones)) == 3, 1, message="one SMS each")


def test_members_still_log_in_after_the_whole_stack_restarts(stack):
    payload = register(stack.api, 1)[0]
    stack.stop()
    stack.start().wait_ready()
    assert stack.api.login(payload["phone"]).get("/api/v1/me").status_code == 200


def test_each_service_s_own_errors_reach_the_client_with_their_status(stack):
    """The gateway runs in a process of its own: a service's error must still arrive as
    itself (a 404 or 409 in the envelope), not as an unknown remote error."""
    payload = register(stack.api, 1)[0]
    again = stack.api.post("/api/v1/auth/register", json=payload)
    member = stack.api.login(payload["phone"])
    answers = {
        "community": again,
        "catalogue": stack.api.get("/api/v1/products/no-such-product"),
        "orders": member.get("/api/v1/orders/no-such-order"),
    }
    statuses = {service: response.status_code for service, response in answers.items()}
    assert statuses == {"community": 409, "catalogue": 404, "orders": 404}
    assert all(response.json()["error"]["code"] for response in answers.values())
