"""Community channels by text message (DESIGN §9), through the signed webhook with our
replies read at the SMS provider's stand-in: an agent orders for a customer with
``PESAN … UNTUK <phone>``, anyone else is told only the hub's agents may, and an order
answering a broadcast is counted as the broadcast's."""

import uuid

import pytest

from services.common.mongo import database_name, mongo_client
from tests.support.api import e164, make_phone
from tests.support.community import approved_member
from tests.support.events import EventLog
from tests.support.inbound import Phone
from tests.support.messaging import hub_orders, open_shop, the_only_order
from tests.support.showroom import shown, soon
from tests.support.waiting import holds, wait_until


@pytest.fixture
def shop(api, sms_sink, hub, config):
    return open_shop(api, sms_sink, hub, config)


def member_phone(api, sms_sink, hub):
    """An approved buyer of ``hub`` with a basic phone: ``(phone, member)``."""
    phone = Phone(api, sms_sink)
    member = approved_member(api, hub.coordinator, hub.hub_id, role="buyer", phone=phone.local)
    return phone, member


def key():
    return {"Idempotency-Key": uuid.uuid4().hex}


def test_a_member_who_is_no_agent_is_told_only_the_hub_s_agents_order_for_others(
    api, sms_sink, shop, hub
):
    phone, _ = member_phone(api, sms_sink, hub)
    code, customer = shop.product["code"], make_phone()
    phone.ask(f"PESAN {code} 2 UNTUK {customer}", "agents_only", hub=shop.hub["name"])
    # in the member's language (Indonesian), whichever words they used
    phone.ask(f"order {code.lower()} 2 for {e164(customer)}", "agents_only", hub=shop.hub["name"])
    holds(lambda: hub_orders(shop.coordinator, hub.hub_id) == [], 1.0)


def test_a_customer_phone_that_is_no_mobile_gets_the_form_to_use_and_nothing_is_ordered(
    api, sms_sink, shop, hub
):
    phone, _ = member_phone(api, sms_sink, hub)
    code = shop.product["code"]
    for customer in ("0341 123456", "ibu Siti", ""):
        phone.ask(f"PESAN {code} 1 UNTUK {customer}", "usage_pesan_untuk")
    assert hub_orders(shop.coordinator, hub.hub_id) == []


def test_an_order_answering_no_broadcast_is_placed_without_attribution(
    api, sms_sink, shop, hub, config
):
    phone, _ = member_phone(api, sms_sink, hub)
    with EventLog(config, "orders") as events:
        phone.send(f"PESAN {shop.product['code']} 1")
        order = the_only_order(shop.coordinator, hub.hub_id)
        phone.expect("ordered", number=order["number"], total=order["total"], hub=shop.hub["name"])
        placed = events.wait_for("order_placed", order_id=order["id"])
    assert placed["data"].get("broadcast_id") is None and order["channel"] == "sms"


# --- with agents (community, orders) and broadcasts (community, notifications) ------


def appoint_agent(coordinator, hub_id, member_id, config, commission_percent=5):
    """``member_id`` an agent of ``hub_id``, once orders has its copy of them."""
    response = coordinator.post(
        f"/api/v1/hubs/{hub_id}/agents",
        json={"member_id": member_id, "commission_percent": commission_percent},
        headers=key(),
    )
    assert response.status_code == 201, response.text
    agent = response.json()
    agents = mongo_client(config)[database_name("orders")].agents
    wait_until(
        lambda: agents.find_one({"_id": agent["id"]}) is not None,
        message="the agent in orders' copy",
    )
    return agent


def test_an_agent_orders_for_a_customer_by_sms_and_the_customer_is_told(
    api, sms_sink, shop, hub, config
):
    phone, member = member_phone(api, sms_sink, hub)
    agent = appoint_agent(hub.coordinator, hub.hub_id, member.member_id, config)
    customer = Phone(api, sms_sink)
    phone.send(f"pesan {shop.product['code'].lower()} 2 untuk {customer.local}")
    order = the_only_order(shop.coordinator, hub.hub_id)
    phone.expect(
        "ordered_for",
        number=order["number"],
        total=order["total"],
        phone=customer.number,
        hub=shop.hub["name"],
    )
    assert order["channel"] == "agent" and order["agent_id"] == agent["id"]
    assert order["buyer_id"] == member.member_id
    assert order["customer"]["phone"] == customer.number
    wait_until(
        lambda: any(order["number"] in text for text in customer.inbox()),
        message="the customer's SMS about the order",
    )


def test_an_order_by_sms_answering_a_broadcast_counts_as_the_broadcast_s(
    api, sms_sink, shop, hub, config
):
    phone, _ = member_phone(api, sms_sink, hub)
    soon(lambda: shown(api, shop.product["id"]), "the product in the gateway's showroom")
    group = hub.coordinator.post(
        f"/api/v1/hubs/{hub.hub_id}/groups",
        json={"name": "Jamaah Al-Ikhlas", "kind": "jamaah"},
        headers=key(),
    )
    assert group.status_code == 201, group.text
    group_id = group.json()["id"]
    contact = hub.coordinator.post(
        f"/api/v1/groups/{group_id}/contacts", json={"phone": phone.local}, headers=key()
    )
    assert contact.status_code == 201, contact.text
    sent = hub.coordinator.post(
        f"/api/v1/groups/{group_id}/broadcasts",
        json={"product_ids": [shop.product["id"]]},
        headers=key(),
    )
    assert sent.status_code == 202, sent.text
    broadcast_id = sent.json()["id"]
    with EventLog(config, "orders") as events:
        phone.send(f"PESAN {shop.product['code']} 1")
        order = the_only_order(shop.coordinator, hub.hub_id)
        placed = events.wait_for("order_placed", order_id=order["id"])
    assert placed["data"]["broadcast_id"] == broadcast_id
    wait_until(
        lambda: hub.coordinator.get(f"/api/v1/broadcasts/{broadcast_id}").json()["orders"] == 1,
        message="the order counted on its broadcast",
    )
