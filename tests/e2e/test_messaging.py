"""Text messages end to end: the stack as processes (the commands `make run` uses), a
signed webhook in, our reply out at the local SMS sink."""

import pytest

from services.messaging import replies
from tests.support.api import make_member
from tests.support.inbound import Phone, signed_post
from tests.support.waiting import holds

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack(process_stack):
    return process_stack


def test_a_text_message_registers_a_member_who_is_answered_at_the_sms_provider(stack, sink):
    phone = Phone(stack.api, sink)
    phone.ask("DAFTAR Siti Aminah", "registered", name="Siti Aminah")
    phone.ask("CARI keripik", "found_nothing", words="keripik")
    phone.ask("apa kabar", "help")


def test_messages_that_arrive_while_messaging_is_down_are_answered_once_when_it_returns(
    stack, sink
):
    stack.stop("messaging")
    phones = [Phone(stack.api, sink) for _ in range(5)]
    for phone in phones:
        body = {"id": f"retry-{phone.number}", "from": phone.local, "text": "BANTUAN"}
        # the provider is told 503 and keeps the message; it retries once we are back
        assert signed_post(stack.api, body).status_code == 503
    stack.start("messaging").wait_ready()
    for phone in phones:
        phone.send("BANTUAN", message_id=f"retry-{phone.number}")
        phone.send("BANTUAN", message_id=f"retry-{phone.number}")  # the provider retries again
    for phone in phones:
        phone.expect("help", timeout=30)
    holds(lambda: all(phone.count("help") == 1 for phone in phones), 2)


def test_a_member_registered_over_http_reads_their_text_messages(stack, sink):
    payload = make_member()
    assert stack.api.post("/api/v1/auth/register", json=payload).status_code == 201
    phone = Phone(stack.api, sink, number=payload["phone"])
    phone.ask("STATUS", "no_orders")
    log = stack.api.login(payload["phone"]).get("/api/v1/me/messages").json()
    assert [item["text"] for item in log["items"]] == ["STATUS"]
    assert log["items"][0]["reply"]["text"] == replies.render("no_orders", "id")
