"""Phones that are no members, end to end: a group's contacts welcomed and sent its
broadcasts (paced, each phone once, consent checked as each message is sent), and the
customer of an agent's order told of it. Events are published as community, messaging
and orders publish them; messages are caught at a local SMS provider."""

import time

import pytest

from tests.support.notifications import (
    a_phone,
    make_broadcast,
    make_consent,
    make_contact_added,
    make_hub,
    make_line,
    make_order,
    received_once,
)
from tests.support.waiting import wait_until

RATE = 100  # broadcast messages a second: fast enough for hundreds in a test


@pytest.fixture
def config(config, request):
    """The test config at ``RATE``; a test parametrised with ``settings`` overrides it."""
    callspec = getattr(request.node, "callspec", None)
    overrides = callspec.params.get("settings", {}) if callspec else {}
    return {**config, "KOMPOR_BROADCAST_RATE": RATE, **overrides}


def opt_out(events, log, phone, opted_out=True):
    """``BERHENTI`` (or ``MULAI``) from ``phone``, known to notifications on return."""
    events.publish("messaging", "broadcast_consent_changed", make_consent(phone, opted_out))
    log.wait_known("consents", phone, opted_out=opted_out)


def broadcast(events, phones, **overrides):
    data = make_broadcast(phones, **overrides)
    events.publish("community", "broadcast_requested", data)
    return data


def counted(log, data, timeout=30, **expected):
    """The broadcast's counts once they show ``expected`` (nothing left queued)."""

    def done():
        counts = log.broadcast_counts(data["broadcast_id"])
        wanted = {"queued": 0, **expected}
        return counts if all(counts[key] == value for key, value in wanted.items()) else None

    return wait_until(done, timeout=timeout, interval=0.2, message=f"counts {expected}")


def test_a_new_contact_is_welcomed_once_even_when_the_event_is_redelivered(events, log, sms_sink):
    data = make_contact_added(added_by_name="Pak Budi", group_name="Majelis Al-Hidayah")
    added = events.publish("community", "contact_added", data)
    wait_until(lambda: sms_sink.to(data["phone"]), message="the welcome")
    for _ in range(2):
        events.redeliver("community", "contact_added", added)
    # the same phone added to the group again (community publishes nothing, but a new
    # event id must not make a second welcome either)
    events.publish("community", "contact_added", data)
    marker = make_contact_added()
    events.publish("community", "contact_added", marker)
    wait_until(lambda: sms_sink.to(marker["phone"]), message="the marker's welcome")

    [welcome] = sms_sink.to(data["phone"])
    assert welcome["message"] == (
        "Pak Budi menambahkan nomor Anda ke grup Majelis Al-Hidayah di Simpul Dau untuk info "
        "produk KOMPOR DESA. Balas BERHENTI utk berhenti menerima siaran."
    )
    assert welcome["idempotency_key"] == f"{data['group_id']}:contact_welcome:{data['phone']}.sms"
    # the same phone in another group is welcomed there too
    events.publish("community", "contact_added", {**data, "group_id": "another-group"})
    wait_until(lambda: len(sms_sink.to(data["phone"])) == 2, message="the second group's welcome")


def test_an_opted_out_phone_gets_nothing_until_it_says_mulai_then_the_next_broadcast(
    events, log, sms_sink
):
    stopped, listening = a_phone(), a_phone()
    opt_out(events, log, stopped)
    first = broadcast(events, [stopped, listening])
    welcome = make_contact_added(phone=stopped)
    events.publish("community", "contact_added", welcome)
    counts = counted(log, first, sent=1, opted_out=1)
    assert counts == {"total": 2, "queued": 0, "sent": 1, "failed": 0, "opted_out": 1}
    assert [m["to"] for m in sms_sink.messages] == [listening]
    [message] = sms_sink.to(listening)
    assert message["message"] == (
        "Simpul Dau:\nK7MA Keripik Tempe Pedas Rp12.500\nKP2D Kopi Dampit Rp40.000\n"
        "Balas PESAN <kode> <jumlah>\nBERHENTI utk berhenti"
    )

    opt_out(events, log, stopped, opted_out=False)
    second = broadcast(events, [stopped])
    counted(log, second, sent=1)
    [arrived] = sms_sink.to(stopped)
    assert arrived["idempotency_key"] == f"{second['broadcast_id']}:{stopped}.sms"
    assert log.broadcast_counts(first["broadcast_id"])["opted_out"] == 1  # still over


def test_a_broadcast_reaches_each_opted_in_phone_once_and_counts_add_up(events, log, sms_sink):
    phones = [a_phone() for _ in range(300)]
    stopped = phones[::10]
    for phone in stopped:
        events.publish("messaging", "broadcast_consent_changed", make_consent(phone))
    wait_until(
        lambda: log.db.consents.count_documents({"_id": {"$in": stopped}}) == len(stopped),
        message="every BERHENTI known",
    )
    event = events.publish("community", "broadcast_requested", make_broadcast(phones + phones[:5]))
    data = event["data"]
    events.redeliver("community", "broadcast_requested", event)
    counts = counted(log, data, sent=270, opted_out=30)
    assert counts == {"total": 300, "queued": 0, "sent": 270, "failed": 0, "opted_out": 30}
    once = received_once(sms_sink, phones)
    assert {phone for phone, n in once.items() if n == 1} == set(phones) - set(stopped)
    assert {phone for phone, n in once.items() if n == 0} == set(stopped)
    assert len(sms_sink.messages) == 270


def test_consent_given_up_after_queuing_but_before_sending_is_honoured(events, log, sms_sink):
    phones = [a_phone() for _ in range(40)]
    last = phones[-1]
    data = broadcast(events, phones)
    wait_until(lambda: sms_sink.messages, message="the broadcast under way")
    opt_out(events, log, last)
    counts = counted(log, data, sent=39, opted_out=1)
    assert counts["total"] == 40
    assert sms_sink.to(last) == []


@pytest.mark.parametrize("settings", [{"KOMPOR_BROADCAST_RATE": 10}])
def test_broadcasts_keep_to_the_rate_and_an_order_message_does_not_wait_behind_them(
    events, log, sms_sink, settings
):
    phones = [a_phone() for _ in range(60)]
    data = broadcast(events, phones)
    wait_until(lambda: sms_sink.messages, message="the broadcast under way")
    started = time.monotonic()
    buyer = events.member()
    log.wait_known("contacts", buyer["member_id"])
    order = make_order(make_hub()["hub_id"], buyer["member_id"], [make_line("seller-x")])
    events.publish("orders", "order_confirmed", order)
    wait_until(lambda: sms_sink.to(buyer["phone"]), message="the order's message")
    broadcast_so_far = len(sms_sink.messages) - 1
    assert broadcast_so_far < len(phones)  # it did not wait for the whole broadcast

    counted(log, data, timeout=60, sent=len(phones))
    took = time.monotonic() - started
    # 59 more messages at 10 a second take about 6 s; loosely: not much faster
    assert took >= 4.0, f"{len(phones)} broadcast messages in {took:.1f}s at 10 a second"


def test_the_customer_of_an_agents_order_hears_of_it_even_after_berhenti(events, log, sms_sink):
    agent = events.member(name="Pak Agen")
    log.wait_known("contacts", agent["member_id"])
    customer = {"name": "Bu Ani", "phone": a_phone()}
    opt_out(events, log, customer["phone"])  # stops broadcasts, not order messages
    hub = make_hub(name="Simpul Dau")
    events.publish("community", "hub_created", hub)
    log.wait_known("hubs", hub["hub_id"])
    order = make_order(
        hub["hub_id"],
        agent["member_id"],
        [make_line("seller-x", "Keripik", 2, 12500)],
        customer=customer,
        channel="agent",
    )
    placed = events.publish("orders", "order_placed", order)
    events.publish("orders", "order_confirmed", {**order, "status": "confirmed"})
    wait_until(lambda: len(sms_sink.to(customer["phone"])) == 2, message="the customer's messages")
    wait_until(lambda: sms_sink.to(agent["phone"]), message="the agent's confirmation")
    events.redeliver("orders", "order_placed", placed)
    events.publish("orders", "order_placed", order)  # announced again: no news
    marker = make_contact_added()
    events.publish("community", "contact_added", marker)
    wait_until(lambda: sms_sink.to(marker["phone"]), message="the marker")
    time.sleep(0.5)  # order events ride their own queues: let them drain too

    number = order["number"]
    assert sorted(m["message"] for m in sms_sink.to(customer["phone"])) == [
        f"Pak Agen memesan untuk Anda di Simpul Dau: {number}, 2x Keripik. Total Rp25.000, "
        "bayar di tempat. Kami kabari saat pesanan siap.",
        f"Pesanan {number} dikonfirmasi: 2x Keripik. Total Rp25.000, bayar di tempat. "
        "Kami kabari saat pesanan siap.",
    ]
    [to_agent] = sms_sink.to(agent["phone"])
    assert to_agent["message"].startswith(f"Pesanan {number} dikonfirmasi")
    assert log.of(agent["member_id"])[0]["template"] == "order_confirmed"


def test_killing_notifications_mid_broadcast_leaves_each_phone_one_message(
    stack, events, log, sms_sink
):
    """The in-process stand-in for the fault suite's row: the service's container is
    killed (its workers die mid-send, nothing is stopped gracefully) and a new one
    started on the same store; each opted-in phone gets its message once."""
    phones = [a_phone() for _ in range(300)]
    stopped = phones[1::15]
    for phone in stopped:
        events.publish("messaging", "broadcast_consent_changed", make_consent(phone))
    wait_until(
        lambda: log.db.consents.count_documents({"_id": {"$in": stopped}}) == len(stopped),
        message="every BERHENTI known",
    )
    data = broadcast(events, phones)
    wait_until(lambda: len(sms_sink.messages) >= 60, message="the broadcast under way")
    stack.containers.pop("notifications").kill()
    at_kill = len(sms_sink.messages)
    assert at_kill < len(phones) - len(stopped), "the broadcast finished before the kill"
    stack.start("notifications")

    # a message in flight at the kill is tried again once its lease (60 s) runs out
    counts = counted(log, data, timeout=120, sent=len(phones) - len(stopped))
    assert counts["opted_out"] == len(stopped) and counts["total"] == len(phones)
    once = received_once(sms_sink, phones)
    assert {phone for phone, n in once.items() if n == 1} == set(phones) - set(stopped)
    assert {phone for phone, n in once.items() if n == 0} == set(stopped)
