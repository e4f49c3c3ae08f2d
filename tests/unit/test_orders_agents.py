"""An agent's orders for customers (DESIGN §9) without a broker: who may place one, what
the order records and announces, and how the reports count it by channel and by agent."""

import datetime

import pytest

from services.common.errors import ServiceUnavailable, ValidationError
from services.orders import domain, schemas
from services.orders.exceptions import AgentNotKnownYet, NotAllowed
from services.orders.repository import OrdersRepository
from tests.support.aggregates import events
from tests.support.orders import make_actor, make_order, make_product
from tests.support.stores import memory_repository

HUB = "hub-1"
AGENT = make_actor("member-9", buyer=[HUB], agent=[HUB])
COORDINATOR = make_actor("coord-1", coordinator=[HUB])
APPOINTMENT = {"_id": "agent-1", "hub_id": HUB, "member_id": "member-9", "commission_percent": 4}
TEMPE = make_product(name="Keripik Tempe", price=15000, seller_id="seller-1")
KOPI = make_product(name="Kopi Dampit", price=40000, seller_id="seller-2")
PRODUCTS = {p["product_id"]: {**p, "_id": p["product_id"]} for p in (TEMPE, KOPI)}
CUSTOMER = {"name": "Bu Tini", "phone": "+6281234567890"}
AGENT_FIELDS = ("agent_id", "agent_commission_percent", "customer", "broadcast_id")


def place(
    actor=AGENT, agent=APPOINTMENT, commission_percent=10, broadcast_id=None, key="1", **body
):
    fields = make_order(HUB, [(TEMPE, 3), (KOPI, 1)], **{"customer": CUSTOMER, **body})
    domain.check_can_place(actor, fields, PRODUCTS, set(), None, agent)
    return domain.new_order(
        actor,
        f"key-{key}",
        domain.fingerprint(fields),
        fields,
        PRODUCTS,
        f"KD-00000{key}",
        60,
        commission_percent=commission_percent,
        agent=agent,
        broadcast_id=broadcast_id,
    )


# --- placing ----------------------------------------------------------------------------


def test_an_agents_order_for_a_customer_is_theirs_on_the_agent_channel():
    order = place()
    assert (order["buyer_id"], order["acted_by"], order["channel"]) == ("member-9", None, "agent")
    assert (order["agent_id"], order["agent_commission_percent"]) == ("agent-1", 4)
    assert order["customer"] == CUSTOMER
    # 4 % of each seller's lines: 45,000 → 1,800 and 40,000 → 1,600
    assert order["agent_commission"] == 3_400
    ((name, data),) = events(order)
    assert name == "order_placed"
    assert {field: data[field] for field in AGENT_FIELDS} == {
        "agent_id": "agent-1",
        "agent_commission_percent": 4,
        "customer": CUSTOMER,
        "broadcast_id": None,
    }
    assert data["channel"] == "agent" and data["buyer_id"] == "member-9"


def test_an_agents_share_is_at_most_the_orders_commission():
    order = place(agent={**APPOINTMENT, "commission_percent": 15}, commission_percent=10)
    assert (order["agent_commission_percent"], order["agent_commission"]) == (10, 8_500)


def test_an_order_without_a_customer_has_no_agent_even_from_an_agent():
    fields = make_order(HUB, [(TEMPE, 1)])
    order = domain.new_order(
        AGENT, "k", domain.fingerprint(fields), fields, PRODUCTS, "KD-000002", 60
    )
    assert order["channel"] == "online"
    assert [order[field] for field in (*AGENT_FIELDS, "agent_commission")] == [None] * 5


@pytest.mark.parametrize(
    "actor",
    [
        make_actor("member-9", buyer=[HUB]),
        make_actor("member-9", buyer=[HUB], agent=["hub-2"]),
        COORDINATOR,
        make_actor("admin-1", is_admin=True),
    ],
)
def test_only_an_agent_of_the_hub_orders_for_a_customer(actor):
    with pytest.raises(NotAllowed) as refused:
        place(actor=actor)
    assert "customer" in refused.value.details


def test_an_agent_whose_appointment_has_not_reached_orders_is_asked_to_try_again_shortly():
    with pytest.raises(AgentNotKnownYet) as refused:
        place(agent=None)
    assert isinstance(refused.value, ServiceUnavailable)
    assert "try again" in str(refused.value) and "customer" in refused.value.details


def test_a_text_message_that_answered_a_broadcast_names_it_on_the_order_and_its_events():
    order = place(broadcast_id="bc-1")
    assert order["broadcast_id"] == "bc-1"
    ((_, data),) = events(order)
    assert data["broadcast_id"] == "bc-1"


@pytest.mark.parametrize("broadcast_id", ["", 7, "x" * 101, {"$ne": None}])
def test_a_broadcast_id_that_is_not_one_is_refused_naming_it(broadcast_id):
    with pytest.raises(ValidationError) as refused:
        domain.check_broadcast_id(broadcast_id)
    assert "broadcast_id" in refused.value.details


def test_every_event_of_an_agents_order_carries_its_agent_and_customer():
    order = place()
    domain.stock_reserved(order)
    domain.change_status(order, COORDINATOR, "ready_for_pickup")
    domain.change_status(order, COORDINATOR, "completed")
    published = events(order)
    assert [name for name, _ in published] == [
        "order_placed",
        "order_confirmed",
        "order_status_changed",
        "order_status_changed",
        "order_paid",
        "order_settled",
    ]
    for _, data in published:
        assert (data["agent_id"], data["customer"], data["channel"]) == (
            "agent-1",
            CUSTOMER,
            "agent",
        )


# --- the request ----------------------------------------------------------------------


def body(**customer):
    return {**make_order(HUB, [(TEMPE, 1)]), "customer": customer}


def refusal(payload):
    with pytest.raises(ValidationError) as refused:
        schemas.PlaceOrderSchema().load_or_raise(payload)
    return refused.value.details


def test_a_customers_phone_is_stored_as_e164_and_the_name_is_optional():
    loaded = schemas.PlaceOrderSchema().load_or_raise(body(phone="0812-3456-7890"))
    assert loaded["customer"] == {"name": None, "phone": "+6281234567890"}


@pytest.mark.parametrize(
    ("customer", "field"),
    [
        ({"phone": "12345"}, "customer.phone"),
        ({"phone": "0341 123456"}, "customer.phone"),  # a landline receives no SMS
        ({"name": "Bu Tini"}, "customer.phone"),
        ({"phone": "0812-3456-7890", "name": "x" * 81}, "customer.name"),
        ({"phone": "0812-3456-7890", "name": " "}, "customer.name"),
    ],
)
def test_a_bad_customer_is_refused_naming_the_field(customer, field):
    assert field in refusal(body(**customer))


def test_a_customer_and_on_behalf_of_together_are_refused_naming_customer():
    payload = {**body(phone="0812-3456-7890"), "on_behalf_of": "member-2"}
    assert "customer" in refusal(payload)


def test_an_agents_order_shows_its_agent_customer_and_share():
    shown = schemas.OrderSchema().dump(place())
    assert {field: shown[field] for field in (*AGENT_FIELDS, "agent_commission")} == {
        "agent_id": "agent-1",
        "agent_commission_percent": 4,
        "customer": CUSTOMER,
        "broadcast_id": None,
        "agent_commission": 3_400,
    }


# --- the reports --------------------------------------------------------------------------


def test_sales_by_channel_list_every_channel_with_zeros():
    found = domain.sales_by_channel(
        [
            {"channel": "agent", "orders": 2, "gross": 90_000},
            {"channel": None, "orders": 1, "gross": 5_000},  # stored before channels
            {"channel": "online", "orders": 1, "gross": 10_000},
        ]
    )
    assert found == [
        {"channel": "online", "orders": 2, "gross": 15_000},
        {"channel": "sms", "orders": 0, "gross": 0},
        {"channel": "whatsapp", "orders": 0, "gross": 0},
        {"channel": "counter", "orders": 0, "gross": 0},
        {"channel": "agent", "orders": 2, "gross": 90_000},
    ]


def sold(member_id, orders, gross, share):
    return {"member_id": member_id, "orders": orders, "gross": gross, "agent_commission": share}


def test_the_network_sales_add_up_each_agents_days_of_the_period():
    tallies = [
        {
            "hub_id": HUB,
            "days": {"2026-11-02": {"agent": {"orders": 3, "gross": 30_000}}},
            "agents": {
                "2026-10-31": {"agent-1": sold("m1", 9, 90_000, 900)},  # before the period
                "2026-11-02": {
                    "agent-1": sold("m1", 2, 20_000, 800),
                    "agent-0": sold("m0", 1, 10_000, 100),
                },
            },
        },
        {"hub_id": HUB, "days": {}, "agents": {"2026-11-20": {"agent-1": sold("m1", 1, 5, 1)}}},
    ]
    (row,) = domain.network_sales(tallies, "2026-11-01", "2026-12-01")
    assert row["by_agent"] == [
        {"agent_id": "agent-0", **sold("m0", 1, 10_000, 100)},
        {"agent_id": "agent-1", **sold("m1", 3, 20_005, 801)},
    ]


@pytest.fixture
def repository():
    return memory_repository(OrdersRepository, "orders")


def stored(repository, order, status, when="2026-11-15T03:00:00+00:00"):
    moment = datetime.datetime.fromisoformat(when)
    order.update(status=status, created_at=moment, completed_at=moment, outbox=[])
    repository.db.orders.insert_one(order)
    return order


def other(number, channel="online", total_of=(TEMPE, 1)):
    fields = make_order(HUB, [total_of])
    buyer = make_actor(f"buyer-{number}")
    return domain.new_order(
        buyer, "k", "h", fields, PRODUCTS, f"KD-{number:06d}", 60, channel=channel
    )


def test_a_completed_agents_order_is_counted_once_for_its_hub_channel_and_agent(repository):
    order = stored(repository, place(), "completed")
    for _ in range(3):
        repository.tally(order)
    (row,) = repository.network_sales("2026-11-01", "2026-12-01")
    assert row["by_channel"] == {"agent": {"orders": 1, "gross": 85_000}}
    assert row["by_agent"] == [{"agent_id": "agent-1", **sold("member-9", 1, 85_000, 3_400)}]


def test_the_hubs_sales_report_counts_each_channel_and_agent(repository):
    stored(repository, place(key="1"), "completed")
    stored(repository, place(key="2"), "confirmed")
    stored(repository, other(3, "sms"), "completed")
    stored(repository, other(4), "confirmed")
    stored(repository, other(5), "pending")  # not confirmed yet: not counted
    report = repository.sales_report(HUB, None, None)
    completed, confirmed = report["completed"], report["confirmed"]
    assert {row["channel"]: row["orders"] for row in completed["by_channel"]} == {
        "online": 0,
        "sms": 1,
        "whatsapp": 0,
        "counter": 0,
        "agent": 1,
    }
    assert completed["by_agent"] == [{"agent_id": "agent-1", **sold("member-9", 1, 85_000, 3_400)}]
    assert [(row["channel"], row["gross"]) for row in confirmed["by_channel"]][::4] == [
        ("online", 15_000),
        ("agent", 170_000),
    ]
    assert confirmed["by_agent"] == [{"agent_id": "agent-1", **sold("member-9", 2, 170_000, 6_800)}]
