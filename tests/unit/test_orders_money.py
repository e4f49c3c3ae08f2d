"""The money rules of an order, without a broker or a database: ``order_settled`` once,
when an order is both completed and paid; counter sales; transfer references; refunds."""

import pytest

from services.common.errors import ValidationError
from services.orders import domain
from services.orders.exceptions import InvalidTransition, NotAllowed, NotEnoughStock
from tests.support.aggregates import events
from tests.support.orders import make_actor, make_order, make_product

HUB = "hub-1"
BUYER = make_actor("buyer-1", buyer=[HUB])
SELLER = make_actor("seller-1", seller=[HUB])
COORDINATOR = make_actor("coord-1", coordinator=[HUB])
OTHER_COORDINATOR = make_actor("coord-2", coordinator=["hub-2"])
TEMPE = make_product(name="Keripik Tempe", price=15000, seller_id="seller-1")
KOPI = make_product(name="Kopi Dampit", price=40000, seller_id="seller-2")
PRODUCTS = {p["product_id"]: {**p, "_id": p["product_id"]} for p in (TEMPE, KOPI)}


def place(payment="cod", method="pickup", **options):
    fulfilment = {"method": method, "address": "Jl. Raya 1" if method == "delivery" else None}
    fields = make_order(HUB, [(TEMPE, 3), (KOPI, 1)], fulfilment=fulfilment, payment_method=payment)
    order = domain.new_order(
        BUYER, "key-1", domain.fingerprint(fields), fields, PRODUCTS, "KD-000001", 60, **options
    )
    domain.stock_reserved(order)
    events(order)
    return order


def counter_sale(actor=COORDINATOR, **fields):
    fields = {
        "hub_id": HUB,
        "items": [{"product_id": TEMPE["product_id"], "quantity": 2}],
        **fields,
    }
    return domain.new_counter_sale(
        actor, "coord-1:k", domain.fingerprint(fields), fields, PRODUCTS, "KD-000009", 12, 60
    )


def settled(order):
    return [data for event_type, data in events(order) if event_type == "order_settled"]


def test_an_order_records_where_it_came_from_and_the_hub_s_commission_of_the_moment():
    order = place(channel="sms", commission_percent=15)
    assert (order["channel"], order["commission_percent"]) == ("sms", 15)
    summary = domain.summary(order)
    assert (summary["channel"], summary["commission_percent"]) == ("sms", 15)
    assert summary["payment_reference"] is None and summary["refund_status"] is None
    assert place()["channel"] == "online"


@pytest.mark.parametrize("channel", ["counter", "agent", "", None, 7])
def test_placing_takes_only_the_online_and_text_message_channels(channel):
    with pytest.raises(ValidationError) as raised:
        domain.check_channel(channel)
    assert "channel" in raised.value.details


def test_completing_a_cod_order_settles_it_once_with_each_line_s_seller_and_total():
    order = place()
    domain.change_status(order, COORDINATOR, "ready_for_pickup")
    events(order)
    domain.change_status(order, COORDINATOR, "completed")
    recorded = events(order)
    assert [t for t, _ in recorded] == ["order_status_changed", "order_paid", "order_settled"]
    (data,) = [data for t, data in recorded if t == "order_settled"]
    assert data["status"] == "completed" and data["payment_status"] == "paid"
    assert data["settled_at"].endswith("Z") and order["settled_at"] is not None
    assert [(line["seller_id"], line["line_total"]) for line in data["items"]] == [
        ("seller-1", 45000),
        ("seller-2", 40000),
    ]
    assert data["total"] == 85000 and data["commission_percent"] == 10
    assert domain.change_status(order, COORDINATOR, "completed") is False
    assert domain.mark_paid(order, COORDINATOR) is False
    assert events(order) == []


def test_a_transfer_paid_after_completion_settles_when_the_payment_is_recorded():
    order = place(payment="bank_transfer", method="delivery")
    domain.change_status(order, COORDINATOR, "shipped")
    domain.change_status(order, COORDINATOR, "completed")
    assert settled(order) == [] and order["settled_at"] is None
    domain.mark_paid(order, COORDINATOR)
    assert [t for t, _ in events(order)] == ["order_paid", "order_settled"]
    assert domain.mark_paid(order, COORDINATOR) is False and events(order) == []


def test_a_transfer_paid_before_completion_settles_when_it_is_completed():
    order = place(payment="bank_transfer", method="delivery")
    domain.mark_paid(order, COORDINATOR)
    domain.change_status(order, COORDINATOR, "shipped")
    assert settled(order) == []
    domain.change_status(order, COORDINATOR, "completed")
    assert [t for t, _ in events(order)] == ["order_status_changed", "order_settled"]


def test_a_counter_sale_is_pending_until_catalogue_answers_and_says_nothing_until_then():
    sale = counter_sale(buyer_name="Bu Tini", buyer_phone="+6281234567890")
    assert sale["status"] == "pending" and sale["channel"] == "counter"
    assert sale["buyer_id"] is None and sale["acted_by"] == "coord-1"
    assert sale["payment_method"] == "cash" and sale["commission_percent"] == 12
    assert sale["customer"] == {"name": "Bu Tini", "phone": "+6281234567890"}
    assert sale["total"] == 30000 and events(sale) == []
    assert counter_sale()["customer"] is None


def test_a_counter_sale_sold_is_completed_paid_and_settled_in_one_change_once():
    sale = counter_sale()
    decision = {"order_id": sale["_id"], "sold": True, "reason": None, "shortages": []}
    assert domain.counter_sale_decided(sale, decision) is True
    assert (sale["status"], sale["payment_status"]) == ("completed", "paid")
    assert sale["paid_by"] == "coord-1" and sale["retry_at"] is None
    ((event_type, data),) = events(sale)
    assert event_type == "order_settled" and data["channel"] == "counter"
    assert data["buyer_id"] is None and data["commission_percent"] == 12
    assert domain.counter_sale_decided(sale, decision) is False
    assert events(sale) == []
    assert domain.check_counter_sale_made(sale) is sale


def test_a_counter_sale_short_of_stock_is_rejected_naming_each_short_line():
    sale = counter_sale()
    shortage = {"product_id": TEMPE["product_id"], "requested": 2, "available": 1}
    decision = {"sold": False, "reason": "insufficient_stock", "shortages": [shortage]}
    domain.counter_sale_decided(sale, decision)
    assert sale["status"] == "rejected" and events(sale) == []
    with pytest.raises(NotEnoughStock) as raised:
        domain.check_counter_sale_made(sale)
    assert raised.value.status == 409
    (message,) = raised.value.details["items.0.product_id"]
    assert "Only 1 of Keripik Tempe" in message


@pytest.mark.parametrize("actor", [SELLER, BUYER, OTHER_COORDINATOR])
def test_only_the_hub_s_coordinator_records_a_counter_sale(actor):
    with pytest.raises(NotAllowed) as raised:
        counter_sale(actor)
    assert "hub_id" in raised.value.details


def test_a_counter_sale_of_another_hub_s_product_names_its_line():
    elsewhere = make_product(hub_id="hub-2")
    fields = {"hub_id": HUB, "items": [{"product_id": elsewhere["product_id"], "quantity": 1}]}
    products = {elsewhere["product_id"]: elsewhere}
    with pytest.raises(ValidationError) as raised:
        domain.new_counter_sale(COORDINATOR, "k", "h", fields, products, "KD-1", 10, 60)
    assert "items.0.product_id" in raised.value.details


def test_a_counter_sale_cannot_be_cancelled():
    sale = counter_sale()
    with pytest.raises(InvalidTransition):
        domain.cancel(sale, COORDINATOR)


def test_a_paid_order_cancelled_leaves_a_refund_due_that_the_coordinator_settles_once():
    order = place(payment="bank_transfer", method="delivery")
    domain.mark_paid(order, COORDINATOR)
    events(order)
    domain.cancel(order, COORDINATOR, reason="Stok rusak")
    ((event_type, data),) = events(order)
    assert event_type == "order_cancelled" and data["refund_status"] == "due"
    with pytest.raises(NotAllowed):
        domain.settle_refund(order, BUYER, None)
    assert domain.settle_refund(order, COORDINATOR, "TRF-77") is True
    ((event_type, data),) = events(order)
    assert event_type == "refund_settled" and data["refund_status"] == "settled"
    assert (data["settled_by"], data["reference"]) == ("coord-1", "TRF-77")
    assert domain.settle_refund(order, COORDINATOR, "TRF-77") is False
    assert events(order) == []


def test_an_unpaid_order_cancelled_owes_no_refund():
    order = place()
    domain.cancel(order, BUYER)
    assert order["refund_status"] is None
    with pytest.raises(InvalidTransition) as raised:
        domain.settle_refund(order, COORDINATOR, None)
    assert "refund_status" in raised.value.details


def test_the_buyer_sends_a_transfer_reference_once_and_a_new_one_replaces_it():
    order = place(payment="bank_transfer", method="delivery")
    assert domain.send_payment_proof(order, BUYER, "BRI 0912 7781") is True
    ((event_type, data),) = events(order)
    assert event_type == "payment_proof_sent" and data["payment_reference"] == "BRI 0912 7781"
    assert domain.send_payment_proof(order, BUYER, "BRI 0912 7781") is False
    assert domain.send_payment_proof(order, BUYER, "BRI 0912 7782") is True
    assert order["payment_reference"] == "BRI 0912 7782"


@pytest.mark.parametrize(
    ("payment", "change", "field"),
    [
        ("cod", None, "payment_method"),
        ("bank_transfer", "paid", "payment_status"),
        ("bank_transfer", "cancelled", "status"),
    ],
)
def test_a_transfer_reference_is_refused_where_there_is_no_transfer_to_make(payment, change, field):
    order = place(payment=payment, method="delivery")
    if change == "paid":
        domain.mark_paid(order, COORDINATOR)
    elif change == "cancelled":
        domain.cancel(order, BUYER)
    with pytest.raises(InvalidTransition) as raised:
        domain.send_payment_proof(order, BUYER, "TRF-1")
    assert field in raised.value.details


@pytest.mark.parametrize("actor", [COORDINATOR, SELLER])
def test_only_the_buyer_sends_the_transfer_reference(actor):
    with pytest.raises(NotAllowed) as raised:
        domain.send_payment_proof(place(payment="bank_transfer"), actor, "TRF-1")
    assert "reference" in raised.value.details


def test_the_network_sales_rows_add_up_each_hub_s_days_of_the_period_per_channel():
    tallies = [
        {
            "hub_id": "hub-2",
            "days": {
                "2026-10-31": {"sms": {"orders": 9, "gross": 90000}},  # before the period
                "2026-11-01": {"sms": {"orders": 1, "gross": 15000}},
            },
        },
        {"hub_id": "hub-1", "days": {"2026-11-30": {"online": {"orders": 1, "gross": 5000}}}},
        {
            "hub_id": "hub-2",
            "days": {
                "2026-11-02": {
                    "sms": {"orders": 2, "gross": 20000},
                    "counter": {"orders": 2, "gross": 75000},
                },
                "2026-12-01": {"sms": {"orders": 9, "gross": 90000}},  # after it
            },
        },
        {"hub_id": "hub-3", "days": {"2026-12-01": {"sms": {"orders": 9, "gross": 90000}}}},
    ]
    assert domain.network_sales(tallies, "2026-11-01", "2026-12-01") == [
        {
            "hub_id": "hub-1",
            "orders": 1,
            "gross": 5000,
            "by_channel": {"online": {"orders": 1, "gross": 5000}},
            "by_agent": [],
        },
        {
            "hub_id": "hub-2",
            "orders": 5,
            "gross": 110000,
            "by_channel": {
                "counter": {"orders": 2, "gross": 75000},
                "sms": {"orders": 3, "gross": 35000},
            },
            "by_agent": [],
        },
    ]
    assert len(domain.network_sales(tallies, None, None)) == 3
    with pytest.raises(NotAllowed):
        domain.check_can_see_network(COORDINATOR)
    domain.check_can_see_network(make_actor("admin", is_admin=True))
