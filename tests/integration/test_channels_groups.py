"""Community channels through the gateway (DESIGN §9): agents, congregation groups,
their contacts, and broadcasts of a hub's products."""

import uuid

import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from services.common.mongo import database_name, mongo_client
from services.common.phone import normalise_phone
from tests.support.api import make_phone
from tests.support.channels import (
    add_contact,
    appoint,
    appointed_agent,
    broadcast,
    group_payload,
    make_group,
    product_on_show,
)
from tests.support.community import approved_member, hub_with_coordinator, pending_member
from tests.support.waiting import wait_until


@pytest.fixture
def hub(api, admin):
    return hub_with_coordinator(api, admin)


@pytest.fixture
def agent(api, hub):
    return appointed_agent(api, hub.coordinator, hub.hub_id)


@pytest.fixture
def group(hub, agent):
    return make_group(hub.coordinator, hub.hub_id, agent_id=agent.agent_id)


@pytest.fixture
def products(api, hub):
    seller = approved_member(api, hub.coordinator, hub.hub_id, role="seller")
    return [
        product_on_show(api, seller.client, hub.coordinator, hub.hub_id, price=15_000 + n)
        for n in range(4)
    ]


def community(config):
    return ClusterRpcProxy(config, timeout=10)


# --- agents ---------------------------------------------------------------------------


def test_an_appointed_agent_acts_as_one_and_is_announced(api, hub, community_events):
    member = approved_member(api, hub.coordinator, hub.hub_id, role="buyer")
    assert member.client.get(f"/api/v1/hubs/{hub.hub_id}/groups").status_code == 403

    response = appoint(hub.coordinator, hub.hub_id, member.member_id, commission_percent=10)
    assert response.status_code == 201, response.text
    agent = response.json()
    assert {k: agent[k] for k in ("hub_id", "member_id", "commission_percent")} == {
        "hub_id": hub.hub_id,
        "member_id": member.member_id,
        "commission_percent": 10,
    }
    assert member.client.get(f"/api/v1/hubs/{hub.hub_id}/groups").status_code == 200
    listed = hub.coordinator.get(f"/api/v1/hubs/{hub.hub_id}/agents").json()
    assert listed["total"] == 1 and listed["items"] == [agent]

    event = community_events.wait_for("agent_appointed", agent_id=agent["id"])
    assert event["data"] == {
        "agent_id": agent["id"],
        "hub_id": hub.hub_id,
        "member_id": member.member_id,
        "commission_percent": 10,
        "appointed_by": hub.coordinator_id,
    }
    community_events.wait_for("roles_changed", member_id=member.member_id)


def test_an_agent_s_share_above_the_hub_s_commission_is_refused(api, hub):
    member = approved_member(api, hub.coordinator, hub.hub_id, role="seller")
    response = appoint(hub.coordinator, hub.hub_id, member.member_id, commission_percent=11)
    assert response.status_code == 400
    [message] = response.json()["error"]["details"]["commission_percent"]
    assert "the hub's commission, 10" in message


def test_only_an_approved_member_is_appointed_and_only_once(api, hub, agent):
    applicant = pending_member(api, hub.hub_id, role="buyer")
    refused = appoint(hub.coordinator, hub.hub_id, applicant.member_id)
    assert refused.status_code == 409
    assert refused.json()["error"]["details"]["reason"] == ["not_a_member"]

    again = appoint(hub.coordinator, hub.hub_id, agent.member_id, commission_percent=5)
    assert again.status_code == 409
    assert again.json()["error"]["details"]["agent_id"] == [agent.agent_id]


# --- groups and contacts ---------------------------------------------------------------


def test_a_group_needs_a_known_kind_and_an_agent_of_its_own_hub(api, admin, hub):
    bad_kind = hub.coordinator.post(
        f"/api/v1/hubs/{hub.hub_id}/groups", json=group_payload(kind="arisan")
    )
    assert bad_kind.status_code == 400 and "kind" in bad_kind.json()["error"]["details"]

    other = hub_with_coordinator(api, admin)
    stranger = appointed_agent(api, other.coordinator, other.hub_id)
    foreign = hub.coordinator.post(
        f"/api/v1/hubs/{hub.hub_id}/groups", json=group_payload(agent_id=stranger.agent_id)
    )
    assert foreign.status_code == 400 and "agent_id" in foreign.json()["error"]["details"]


def test_a_coordinator_lists_every_group_and_an_agent_their_own(api, hub, agent, group):
    unrun = make_group(hub.coordinator, hub.hub_id)
    assert group["agent_id"] == agent.agent_id and group["contacts"] == 0
    path = f"/api/v1/hubs/{hub.hub_id}/groups"
    every = hub.coordinator.get(path).json()
    assert {g["id"] for g in every["items"]} == {group["id"], unrun["id"]}
    assert agent.client.get(path).json()["items"] == [group]
    assert agent.client.get(f"/api/v1/groups/{group['id']}").json() == group
    assert agent.client.get(f"/api/v1/groups/{unrun['id']}").status_code == 403


@pytest.mark.parametrize("phone", ["0341-551234", "+1 202 555 0143", "12345"])
def test_a_contact_needs_an_indonesian_mobile_number(agent, group, phone):
    response = add_contact(agent.client, group["id"], phone=phone)
    assert response.status_code == 400
    assert "phone" in response.json()["error"]["details"]


def test_the_same_phone_twice_is_one_contact_told_once(agent, group, community_events):
    phone = make_phone()
    first = add_contact(agent.client, group["id"], phone=phone, name="Bu Aminah")
    assert first.status_code == 201, first.text
    contact = first.json()
    assert contact["phone"] == normalise_phone(phone) and contact["opted_out"] is False
    again = add_contact(agent.client, group["id"], phone=phone.replace("0812", "62812", 1))
    assert again.status_code == 200 and again.json() == contact

    listed = agent.client.get(f"/api/v1/groups/{group['id']}/contacts").json()
    assert listed["total"] == 1 and listed["items"] == [contact]
    event = community_events.wait_for("contact_added", group_id=group["id"])
    assert event["data"]["phone"] == contact["phone"]
    assert event["data"]["group_name"] == group["name"] and event["data"]["name"] == "Bu Aminah"
    assert len(community_events.of_type("contact_added", group_id=group["id"])) == 1


def test_an_agent_of_another_group_adds_no_contacts_to_it(api, hub, group):
    other_agent = appointed_agent(api, hub.coordinator, hub.hub_id)
    make_group(hub.coordinator, hub.hub_id, agent_id=other_agent.agent_id)
    assert add_contact(other_agent.client, group["id"]).status_code == 403
    assert other_agent.client.get(f"/api/v1/groups/{group['id']}/contacts").status_code == 403


def test_a_contact_shows_whether_its_phone_opted_out(agent, group, events):
    contact = add_contact(agent.client, group["id"]).json()
    consent = {"phone": contact["phone"], "member_id": None, "opted_out": True}
    events.publish("messaging", "broadcast_consent_changed", consent)

    def opted_out():
        listed = agent.client.get(f"/api/v1/groups/{group['id']}/contacts").json()
        return listed["items"][0]["opted_out"]

    wait_until(opted_out, message="the consent to reach community")


# --- broadcasts ------------------------------------------------------------------------


def test_a_broadcast_goes_to_every_contact_once_a_day(
    api, hub, agent, group, products, community_events
):
    phones = [add_contact(agent.client, group["id"]).json()["phone"] for _ in range(3)]
    started = broadcast(agent.client, group["id"], [p["id"] for p in products[:3]])
    assert started.status_code == 202, started.text
    sent = started.json()
    assert (sent["group_id"], sent["contacts"], sent["orders"]) == (group["id"], 3, 0)

    event = community_events.wait_for("broadcast_requested", broadcast_id=sent["id"])
    assert sorted(r["phone"] for r in event["data"]["recipients"]) == sorted(phones)
    assert event["data"]["products"] == [
        {"id": p["id"], "code": p["code"], "name": p["name"], "price": p["price"]}
        for p in products[:3]
    ]
    shown = agent.client.get(f"/api/v1/broadcasts/{sent['id']}")
    assert shown.status_code == 200
    assert {k: shown.json()[k] for k in sent} == sent

    second = broadcast(hub.coordinator, group["id"], [products[3]["id"]])
    assert second.status_code == 409
    assert second.json()["error"]["details"]["broadcast_id"] == [sent["id"]]


def test_a_broadcast_needs_contacts_and_one_to_three_known_products_of_the_hub(
    api, admin, hub, agent, group, products
):
    empty = broadcast(agent.client, group["id"], [products[0]["id"]])
    assert empty.status_code == 409
    assert empty.json()["error"]["details"]["reason"] == ["group_has_no_contacts"]

    add_contact(agent.client, group["id"])
    other = hub_with_coordinator(api, admin)
    elsewhere = approved_member(api, other.coordinator, other.hub_id, role="seller")
    foreign = product_on_show(api, elsewhere.client, other.coordinator, other.hub_id)
    for product_ids, status in (
        ([p["id"] for p in products], 400),  # four
        ([], 400),
        ([uuid.uuid4().hex], 404),  # as an order's unknown product
        ([foreign["id"]], 400),
    ):
        refused = broadcast(agent.client, group["id"], product_ids)
        assert refused.status_code == status, product_ids
        assert "product_ids" in refused.json()["error"]["details"]


def test_another_hub_s_coordinator_cannot_broadcast_to_a_group(api, admin, agent, group, products):
    add_contact(agent.client, group["id"])
    other = hub_with_coordinator(api, admin)
    refused = broadcast(other.coordinator, group["id"], [products[0]["id"]])
    assert refused.status_code == 403


def test_a_reply_is_attributed_to_the_broadcast_and_its_orders_counted(
    config, agent, group, products, events
):
    phone = add_contact(agent.client, group["id"]).json()["phone"]
    sent = broadcast(agent.client, group["id"], [products[0]["id"]]).json()
    with community(config) as rpc:
        assert rpc.community.broadcast_for_reply(phone, [products[0]["id"]]) == sent["id"]
        assert rpc.community.broadcast_for_reply(phone, [products[1]["id"]]) is None
        assert rpc.community.broadcast_for_reply(make_phone(), [products[0]["id"]]) is None

    order = {"order_id": uuid.uuid4().hex, "broadcast_id": sent["id"]}
    published = [
        events.publish("orders", "order_placed", data)["event_id"]
        for data in (
            order,
            order,  # the same order announced again
            {"order_id": uuid.uuid4().hex, "broadcast_id": None},
            {**order, "order_id": uuid.uuid4().hex},
        )
    ]
    inbox = mongo_client(config)[database_name("community")].inbox
    wait_until(
        lambda: all(inbox.find_one({"_id": f"handle_order_placed:{e}"}) for e in published),
        message="community to handle every order_placed",
    )
    assert agent.client.get(f"/api/v1/broadcasts/{sent['id']}").json()["orders"] == 2
