"""Every text command through the signed webhook, with our replies read at the SMS
provider's stand-in: the same rules as the HTTP API, one reply per message."""

import pytest

from services.common.mongo import database_name, mongo_client
from tests.conftest import Stack
from tests.support.community import approved_member, hub_with_coordinator
from tests.support.events import EventLog
from tests.support.inbound import Phone
from tests.support.messaging import (
    hub_orders,
    open_shop,
    stock_of,
    suspend,
    the_only_order,
)
from tests.support.waiting import holds, wait_until


@pytest.fixture
def shop(api, sms_sink, hub, config):
    return open_shop(api, sms_sink, hub, config)


def listed(product):
    return [{"code": product["code"], "name": product["name"], "price": product["price"]}]


def approve_pending(coordinator, hub_id, phone):
    pending = coordinator.get(f"/api/v1/hubs/{hub_id}/memberships?status=pending").json()
    [membership] = [m for m in pending["items"] if m["member"]["phone"] == phone.number]
    approved = coordinator.post(f"/api/v1/memberships/{membership['id']}/approve", json={})
    assert approved.status_code == 200, approved.text


def test_a_buyer_registers_joins_finds_orders_checks_and_cancels_by_sms(api, sms_sink, shop):
    hub, product = shop.hub, shop.product
    buyer = Phone(api, sms_sink)
    buyer.ask("DAFTAR Budi Santoso", "registered", name="Budi Santoso")
    buyer.ask(f"GABUNG {hub['slug']}", "applied", hub=hub["name"], role="buyer")
    approve_pending(shop.coordinator, hub["id"], buyer)

    buyer.ask("CARI keripik", "found", products=listed(product))
    buyer.send(f"PESAN {product['code']} 2")
    order = the_only_order(shop.coordinator, hub["id"])
    assert order["fulfilment"]["method"] == "pickup" and order["payment_method"] == "cod"
    assert order["total"] == 2 * product["price"]
    number = order["number"]
    buyer.expect("ordered", number=number, total=order["total"], hub=hub["name"])
    # the saga confirms it, and notifications tells the buyer (a member with no password)
    wait_until(
        lambda: (
            len([text for text in buyer.inbox() if number in text]) == 2
            and stock_of(api, product["id"]) == product["stock"] - 2
        ),
        message="the confirmation SMS (our reply and notifications' message name the order)",
    )
    buyer.ask(
        f"STATUS {number}", "order_status", number=number, status="confirmed", total=order["total"]
    )
    buyer.ask("STATUS", "order_status", number=number, status="confirmed", total=order["total"])
    buyer.ask(f"BATAL {number}", "cancelled", number=number)
    wait_until(lambda: stock_of(api, product["id"]) == product["stock"], message="stock restored")
    assert hub_orders(shop.coordinator, hub["id"])[0]["status"] == "cancelled"


def test_a_seller_changes_stock_and_readies_an_order_by_sms(api, sms_sink, shop, hub):
    product, seller = shop.product, shop.seller_phone
    seller.ask(
        f"STOK {product['code']} +5",
        "stock_changed",
        code=product["code"],
        name=product["name"],
        stock=product["stock"] + 5,
    )
    seller.ask(
        f"stok {product['code'].lower()} -3",
        "stock_changed",
        code=product["code"],
        name=product["name"],
        stock=product["stock"] + 2,
    )
    buyer = approved_member(api, hub.coordinator, hub.hub_id, role="buyer")
    body = {
        "hub_id": hub.hub_id,
        "items": [{"product_id": product["id"], "quantity": 1}],
        "fulfilment": {"method": "pickup"},
        "payment_method": "cod",
    }
    placed = buyer.client.post("/api/v1/orders", json=body, headers={"Idempotency-Key": "k-1"})
    assert placed.status_code == 201, placed.text
    order = placed.json()
    wait_until(
        lambda: buyer.client.get(f"/api/v1/orders/{order['id']}").json()["status"] == "confirmed",
        message="the order confirmed",
    )
    seller.ask(f"SIAP {order['number']}", "ready", number=order["number"])
    assert buyer.client.get(f"/api/v1/orders/{order['id']}").json()["status"] == "ready_for_pickup"
    cancelled = buyer.client.post(
        f"/api/v1/orders/{order['id']}/cancel", json={}, headers={"Idempotency-Key": "k-2"}
    )
    assert cancelled.status_code == 409  # ready for pickup: the buyer cannot cancel it now
    second = buyer.client.post("/api/v1/orders", json=body, headers={"Idempotency-Key": "k-3"})
    number = second.json()["number"]
    buyer.client.post(
        f"/api/v1/orders/{second.json()['id']}/cancel", json={}, headers={"Idempotency-Key": "k-4"}
    )
    seller.ask(f"SIAP {number}", "cannot_ready", number=number, status="cancelled")


def test_a_suspended_seller_cannot_change_stock_by_sms(api, sms_sink, shop):
    suspend(shop.coordinator, shop.membership_id)
    shop.seller_phone.ask(f"STOK {shop.product['code']} +5", "suspended", hub=shop.hub["name"])
    assert stock_of(shop.coordinator, shop.product["id"]) == shop.product["stock"]


def test_someone_elses_product_and_order_are_refused_and_nothing_changes(api, sms_sink, shop, hub):
    other = Phone(api, sms_sink)
    approved_member(api, hub.coordinator, hub.hub_id, role="seller", phone=other.local)
    code = shop.product["code"]
    other.ask(f"STOK {code} +5", "not_your_product", code=code)
    buyer = approved_member(api, hub.coordinator, hub.hub_id, role="buyer")
    body = {
        "hub_id": hub.hub_id,
        "items": [{"product_id": shop.product["id"], "quantity": 1}],
        "fulfilment": {"method": "pickup"},
        "payment_method": "cod",
    }
    order = buyer.client.post("/api/v1/orders", json=body, headers={"Idempotency-Key": "k"}).json()
    other.ask(f"BATAL {order['number']}", "unknown_order", number=order["number"])
    other.ask(f"STATUS {order['number']}", "unknown_order", number=order["number"])
    assert stock_of(api, shop.product["id"]) <= shop.product["stock"]
    assert buyer.client.get(f"/api/v1/orders/{order['id']}").json()["status"] != "cancelled"


def test_gibberish_gets_help_once_and_the_coordinator_sees_it(api, sms_sink, shop):
    seller = shop.seller_phone
    seller.ask("halo bu, keripiknya masih ada?", "help")
    seller.send("apakah bisa diantar?")
    mine = shop.seller.get("/api/v1/me/messages").json()
    wait_until(
        lambda: (
            shop.seller.get("/api/v1/me/messages").json()["total"] == 2
            and all(m["verb"] for m in shop.seller.get("/api/v1/me/messages").json()["items"])
        ),
        message="both messages handled",
    )
    holds(lambda: seller.count("help") == 1, 1.0)  # help at most once per 10 minutes
    mine = shop.seller.get("/api/v1/me/messages").json()
    assert [m["text"] for m in mine["items"]] == [
        "apakah bisa diantar?",
        "halo bu, keripiknya masih ada?",
    ]
    assert mine["items"][0]["reply"] is None and mine["items"][1]["reply"]["text"]
    seen = shop.coordinator.get(f"/api/v1/hubs/{shop.hub['id']}/messages").json()
    assert [m["text"] for m in seen["items"]] == [
        "apakah bisa diantar?",
        "halo bu, keripiknya masih ada?",
    ]
    assert shop.seller.get(f"/api/v1/hubs/{shop.hub['id']}/messages").status_code == 403


def test_the_same_provider_id_twice_makes_one_order_and_one_reply(api, sms_sink, shop, hub, config):
    buyer = Phone(api, sms_sink)
    approved_member(api, hub.coordinator, hub.hub_id, role="buyer", phone=buyer.local)
    text = f"PESAN {shop.product['code']} 1"
    buyer.send(text, message_id="SM-twice")
    buyer.send(text, message_id="SM-twice")
    order = the_only_order(shop.coordinator, hub.hub_id)
    buyer.expect("ordered", number=order["number"], total=order["total"], hub=shop.hub["name"])
    holds(
        lambda: (
            buyer.count(
                "ordered", number=order["number"], total=order["total"], hub=shop.hub["name"]
            )
            == 1
            and len(hub_orders(shop.coordinator, hub.hub_id)) == 1
        ),
        1.5,
    )
    messages = mongo_client(config)[database_name("messaging")].messages
    assert messages.count_documents({"phone": buyer.number}) == 1


def registered_buyer(api, sms_sink, hub):
    buyer = Phone(api, sms_sink)
    approved_member(api, hub.coordinator, hub.hub_id, role="buyer", phone=buyer.local)
    return buyer


@pytest.mark.parametrize("channel", ["sms", "whatsapp"])
def test_an_order_by_text_message_records_the_channel_it_came_by(api, sms_sink, shop, hub, channel):
    buyer = Phone(api, sms_sink, channel=channel)
    approved_member(api, hub.coordinator, hub.hub_id, role="buyer", phone=buyer.local)
    buyer.send(f"PESAN {shop.product['code']} 1")
    order = the_only_order(shop.coordinator, hub.hub_id)
    assert order["channel"] == channel and order["commission_percent"] == 10


def test_a_buyer_sends_the_reference_of_their_transfer_by_sms(api, sms_sink, shop, hub):
    buyer = Phone(api, sms_sink)
    member = approved_member(api, hub.coordinator, hub.hub_id, role="buyer", phone=buyer.local)
    body = {
        "hub_id": hub.hub_id,
        "items": [{"product_id": shop.product["id"], "quantity": 1}],
        "fulfilment": {"method": "delivery", "address": "Jl. Kenanga 5, Tumpang"},
        "payment_method": "bank_transfer",
    }
    placed = member.client.post("/api/v1/orders", json=body, headers={"Idempotency-Key": "t-1"})
    assert placed.status_code == 201, placed.text
    order = placed.json()
    buyer.send(f"BAYAR {order['number']} BRI 0912 7781")
    buyer.expect("proof_sent", number=order["number"], reference="BRI 0912 7781")
    seen = shop.coordinator.get(f"/api/v1/orders/{order['id']}").json()
    assert seen["payment_reference"] == "BRI 0912 7781"

    cod = member.client.post(
        "/api/v1/orders",
        json={**body, "payment_method": "cod", "fulfilment": {"method": "pickup"}},
        headers={"Idempotency-Key": "t-2"},
    ).json()
    path = f"/api/v1/orders/{cod['id']}"
    wait_until(lambda: member.client.get(path).json()["status"] == "confirmed", message="confirmed")
    buyer.send(f"PAY {cod['number']} 55")  # replies come in the member's language
    buyer.expect("cannot_pay", number=cod["number"], status="confirmed")
    assert shop.coordinator.get(path).json()["payment_reference"] is None


def test_orders_that_cannot_be_placed_get_a_clear_reply_and_place_nothing(
    api, sms_sink, shop, hub, admin, config
):
    buyer = registered_buyer(api, sms_sink, hub)
    code = shop.product["code"]
    for text in (f"PESAN {code} 0", f"PESAN {code} -1", f"PESAN {code} 1.000", "PESAN"):
        buyer.ask(text, "usage_pesan")
    buyer.ask("PESAN ZZZZ 1", "unknown_code", code="ZZZZ")
    elsewhere = hub_with_coordinator(api, admin)
    other = open_shop(api, sms_sink, elsewhere, config)
    buyer.ask(f"PESAN {code} 1 {other.product['code']} 1", "mixed_hubs", code=other.product["code"])
    assert hub_orders(shop.coordinator, hub.hub_id) == []
    assert hub_orders(elsewhere.coordinator, elsewhere.hub_id) == []


def test_an_order_beyond_the_stock_is_rejected_by_the_saga_and_the_buyer_is_told_by_sms(
    api, sms_sink, shop, hub
):
    buyer = registered_buyer(api, sms_sink, hub)
    product = shop.product
    buyer.send(f"PESAN {product['code']} {product['stock'] + 1}")
    order = the_only_order(shop.coordinator, hub.hub_id)
    buyer.expect("ordered", number=order["number"], total=order["total"], hub=shop.hub["name"])
    wait_until(
        lambda: any(
            order["number"] in text and product["code"] in text and "stok" in text
            for text in buyer.inbox()
        ),
        message="the rejection naming the order number and the product code",
    )
    assert hub_orders(shop.coordinator, hub.hub_id)[0]["status"] == "rejected"
    assert stock_of(api, product["id"]) == product["stock"]


def test_a_phone_that_is_no_member_may_search_and_stop_broadcasts_but_not_order(
    api, sms_sink, shop, config
):
    stranger = Phone(api, sms_sink)
    stranger.ask(f"ORDER {shop.product['code']} 1", "not_registered", language="en")
    with EventLog(config, "messaging") as events:
        stranger.ask("STOP", "stopped", language="en")
        stranger.ask("MULAI", "started")
        for opted_out in (True, False):
            assert events.wait_for(
                "broadcast_consent_changed",
                phone=stranger.number,
                member_id=None,
                opted_out=opted_out,
            )
    consent = mongo_client(config)[database_name("messaging")].consents.find_one(
        {"_id": stranger.number}
    )
    assert consent["opted_out"] is False and consent["member_id"] is None
    assert hub_orders(shop.coordinator, shop.hub["id"]) == []


def test_a_burst_of_messages_is_answered_exactly_once_each(api, sms_sink, config):
    phones = [Phone(api, sms_sink) for _ in range(200)]
    for phone in phones:
        phone.send("BANTUAN")
    wait_until(
        lambda: all(phone.count("help") >= 1 for phone in phones),
        timeout=120,
        message="a reply to every message",
    )
    holds(lambda: all(phone.count("help") == 1 for phone in phones), 1.0)


def test_registering_twice_joining_an_unknown_hub_and_english_replies(api, sms_sink, shop):
    phone = Phone(api, sms_sink, language="en")
    phone.ask("REGISTER Budi", "registered", name="Budi")
    # the member's language is now English: every reply follows it
    phone.ask("DAFTAR Budi Lagi", "already_registered", name="Budi")
    phone.ask("JOIN no-such-hub", "no_such_hub", hub="no-such-hub")
    phone.ask(
        f"JOIN {shop.hub['slug']} SELL Kopi Budi", "applied", hub=shop.hub["name"], role="seller"
    )
    pending = shop.coordinator.get(f"/api/v1/hubs/{shop.hub['id']}/memberships?status=pending")
    [membership] = [m for m in pending.json()["items"] if m["member"]["phone"] == phone.number]
    assert membership["role"] == "seller" and membership["business_name"] == "Kopi Budi"


@pytest.fixture
def patient(container_factory, config):
    """The stack with handler retries slow enough to outlast a restart."""
    config = {**config, "KOMPOR_RETRY_DELAYS": "1,2,4,8"}
    return Stack(container_factory, config).start().wait_ready()


def test_a_message_handled_while_community_is_down_is_answered_once_when_it_returns(
    patient, sms_sink
):
    phone = Phone(patient.api, sms_sink)
    patient.stop("community")
    phone.send("BANTUAN")
    holds(lambda: phone.inbox() == [], 1.0)  # never a wrong answer meanwhile
    patient.start("community")
    phone.expect("help", timeout=30)
    holds(lambda: phone.count("help") == 1, 1.0)
