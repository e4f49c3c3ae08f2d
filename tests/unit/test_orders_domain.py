"""Order rules without a broker or a database."""

import datetime

import pytest

from services.common.errors import ValidationError
from services.orders import contract, domain
from services.orders.exceptions import (
    IdempotencyKeyReused,
    InvalidTransition,
    ItemsNotInHub,
    NotAllowed,
    OrderNotFound,
    ProductNotAvailable,
)
from tests.support.aggregates import events
from tests.support.orders import make_actor, make_order, make_product

HUB = "hub-1"
NOW = datetime.datetime(2026, 11, 27, 10, 0, tzinfo=datetime.UTC)
SUMMARY_FIELDS = {
    "order_id",
    "number",
    "hub_id",
    "buyer_id",
    "seller_ids",
    "items",
    "total",
    "fulfilment",
    "payment_method",
    "status",
    "payment_status",
    "acted_by",
    "channel",
    "commission_percent",
    "payment_reference",
    "refund_status",
    "agent_id",
    "agent_commission_percent",
    "customer",
    "broadcast_id",
}


def projected(*products):
    return {p["product_id"]: {**p, "_id": p["product_id"]} for p in products}


def place(buyer=None, method="pickup", payment="cod", quantities=(2, 1), **overrides):
    buyer = buyer or make_actor("buyer-1")
    tempe = make_product(name="Keripik Tempe", price=15000, seller_id="seller-1")
    kopi = make_product(name="Kopi Dampit", price=40000, seller_id="seller-2", unit="kg")
    fulfilment = {"method": method, "address": "Jl. Raya 1" if method == "delivery" else None}
    fields = make_order(
        HUB,
        [(tempe, quantities[0]), (kopi, quantities[1])],
        fulfilment=fulfilment,
        payment_method=payment,
        **overrides,
    )
    order = domain.new_order(
        buyer, "key-1", domain.fingerprint(fields), fields, projected(tempe, kopi), "KD-000001", 60
    )
    return order


def confirmed(**kwargs):
    order = place(**kwargs)
    domain.stock_reserved(order)
    events(order)
    return order


COORDINATOR = make_actor("coord-1", coordinator=[HUB])
SELLER = make_actor("seller-1", seller=[HUB])
SELLER_2 = make_actor("seller-2", seller=[HUB])
STRANGER = make_actor("someone")
OTHER_COORDINATOR = make_actor("coord-2", coordinator=["hub-2"])
ADMIN = make_actor("admin", is_admin=True)
BUYER = make_actor("buyer-1", buyer=[HUB])


def test_placing_prices_each_line_from_the_projection_and_totals_in_rupiah():
    order = place()
    assert order["status"] == "pending" and order["payment_status"] == "unpaid"
    assert [
        (line["name"], line["unit_price"], line["quantity"], line["line_total"])
        for line in order["items"]
    ] == [
        ("Keripik Tempe", 15000, 2, 30000),
        ("Kopi Dampit", 40000, 1, 40000),
    ]
    assert order["total"] == 70000
    assert order["seller_ids"] == ["seller-1", "seller-2"]
    assert order["history"][0]["status"] == "pending" and order["history"][0]["by"] == "buyer-1"


def test_placing_records_order_placed_with_the_documented_summary():
    ((event_type, data),) = events(place())
    assert event_type == "order_placed"
    assert set(data) == SUMMARY_FIELDS
    assert data["status"] == "pending"
    assert set(data["items"][0]) == {
        "product_id",
        "code",
        "seller_id",
        "name",
        "quantity",
        "unit_price",
        "line_total",
    }


@pytest.mark.parametrize("status", ["pending_review", "rejected"])
def test_an_unapproved_product_cannot_be_ordered(status):
    product = make_product(status=status)
    with pytest.raises(ProductNotAvailable) as raised:
        domain.price_lines(
            HUB, [{"product_id": product["product_id"], "quantity": 1}], projected(product)
        )
    assert "items.0.product_id" in raised.value.details


def test_an_unknown_product_is_named_by_its_line():
    ok = make_product()
    items = [{"product_id": ok["product_id"], "quantity": 1}, {"product_id": "nope", "quantity": 1}]
    with pytest.raises(ProductNotAvailable) as raised:
        domain.price_lines(HUB, items, projected(ok))
    assert list(raised.value.details) == ["items.1.product_id"]


def test_a_product_of_another_hub_is_refused():
    elsewhere = make_product(hub_id="hub-2")
    with pytest.raises(ItemsNotInHub) as raised:
        domain.price_lines(
            HUB, [{"product_id": elsewhere["product_id"], "quantity": 1}], projected(elsewhere)
        )
    assert raised.value.status == 400 and "items.0.product_id" in raised.value.details


@pytest.mark.parametrize("key", [None, "", "   ", "k" * 101, 12])
def test_a_missing_or_oversized_idempotency_key_is_refused(key):
    with pytest.raises(ValidationError) as raised:
        domain.idempotency_key(key)
    assert "Idempotency-Key" in raised.value.details


def test_an_idempotency_key_of_100_characters_is_fine():
    assert domain.idempotency_key("k" * 100) == "k" * 100


def test_the_fingerprint_ignores_item_order_but_not_quantities():
    a, b = make_product(), make_product()
    first = make_order(HUB, [a, b])
    swapped = make_order(HUB, [b, a])
    more = make_order(HUB, [(a, 2), b])
    assert domain.fingerprint(first) == domain.fingerprint(swapped)
    assert domain.fingerprint(first) != domain.fingerprint(more)


def test_the_same_key_with_another_body_is_a_conflict():
    order = place()
    with pytest.raises(IdempotencyKeyReused):
        domain.check_same_request(order, "another-hash")
    assert domain.check_same_request(order, order["request_hash"]) is order


def test_reserved_stock_confirms_a_pending_order_once():
    order = place()
    events(order)
    assert domain.stock_reserved(order) is True
    assert order["status"] == "confirmed" and order["retry_at"] is None
    assert [t for t, _ in events(order)] == ["order_confirmed"]
    assert domain.stock_reserved(order) is False
    assert events(order) == []


@pytest.mark.parametrize("how", ["cancelled", "rejected"])
def test_stock_reserved_after_the_order_ended_asks_catalogue_to_release_it(how):
    order = place()
    if how == "cancelled":
        domain.cancel(order, BUYER)
    else:
        domain.stock_reservation_failed(order, "Not enough stock.", [])
    events(order)
    assert domain.stock_reserved(order) is True
    assert order["status"] == how
    ((event_type, data),) = events(order)
    assert event_type == "order_cancelled"
    assert data["release_only"] is True and data["stock_was_reserved"] is True


@pytest.mark.parametrize("how", ["cancelled", "rejected", "confirmed then cancelled"])
def test_a_repeated_stock_reserved_after_the_order_ended_asks_for_no_second_release(how):
    order = place()
    if how == "rejected":
        domain.stock_reservation_failed(order, "Not enough stock.", [])
    else:
        if how == "confirmed then cancelled":
            domain.stock_reserved(order)
        domain.cancel(order, BUYER)
    if how != "confirmed then cancelled":
        domain.stock_reserved(order)
    events(order)
    assert domain.stock_reserved(order) is False
    assert events(order) == []


def test_repeated_answers_change_nothing_once_the_order_is_settled():
    order = confirmed()
    events(order)
    assert domain.stock_reserved(order) is False
    rejected = place()
    domain.stock_reservation_failed(rejected, "Not enough stock.", [])
    events(rejected)
    assert domain.stock_reservation_failed(rejected, "Not enough stock.", []) is False
    assert (order["status"], rejected["status"]) == ("confirmed", "rejected")
    assert events(order) == events(rejected) == []


def test_a_failed_reservation_rejects_a_pending_order_with_the_shortages():
    order = place()
    events(order)
    shortages = [{"product_id": "p", "requested": 3, "available": 1}]
    assert domain.stock_reservation_failed(order, "Not enough stock.", shortages) is True
    assert order["status"] == "rejected" and order["shortages"] == shortages
    ((event_type, data),) = events(order)
    assert event_type == "order_rejected" and data["reason"] == "Not enough stock."


def test_a_late_failure_does_not_touch_a_confirmed_order():
    order = confirmed()
    assert domain.stock_reservation_failed(order, "late", []) is False
    assert order["status"] == "confirmed"


def test_a_pending_order_is_announced_again_with_growing_waits():
    order = place()
    events(order)
    assert domain.reannounce(order, 60, now=NOW) is True
    assert order["retry_at"] == NOW + datetime.timedelta(seconds=120)
    assert [t for t, _ in events(order)] == ["order_placed"]
    assert domain.retry_delay(60, 10) == datetime.timedelta(
        seconds=60 * domain.LONGEST_RETRY_FACTOR
    )


def test_an_answered_order_is_not_announced_again():
    order = confirmed()
    assert domain.reannounce(order, 60) is False


@pytest.mark.parametrize(
    ("actor", "status", "outcome"),
    [
        (BUYER, "pending", "cancelled"),
        (BUYER, "confirmed", "cancelled"),
        (BUYER, "ready_for_pickup", InvalidTransition),
        (COORDINATOR, "ready_for_pickup", "cancelled"),
        (ADMIN, "confirmed", "cancelled"),
        (COORDINATOR, "completed", InvalidTransition),
        (COORDINATOR, "rejected", InvalidTransition),
        (SELLER, "confirmed", NotAllowed),
        (STRANGER, "confirmed", OrderNotFound),
        (OTHER_COORDINATOR, "confirmed", OrderNotFound),
    ],
)
def test_who_may_cancel_when(actor, status, outcome):
    order = place()
    order["status"] = status
    if isinstance(outcome, str):
        assert domain.cancel(order, actor) is True
        assert order["status"] == outcome and order["cancelled_by"] == actor["member_id"]
    else:
        with pytest.raises(outcome):
            domain.cancel(order, actor)


def test_cancelling_says_whether_stock_was_reserved_and_twice_changes_nothing():
    order = confirmed()
    domain.cancel(order, BUYER, reason="Salah pesan")
    ((event_type, data),) = events(order)
    assert event_type == "order_cancelled" and data["stock_was_reserved"] is True
    assert data["cancelled_by"] == "buyer-1" and order["reason"] == "Salah pesan"
    assert domain.cancel(order, BUYER) is False


def test_a_pickup_order_goes_ready_then_completed_and_cod_is_then_paid():
    order = confirmed()
    domain.change_status(order, SELLER, "ready_for_pickup")
    domain.change_status(order, SELLER_2, "ready_for_pickup")
    domain.change_status(order, COORDINATOR, "completed")
    assert order["status"] == "completed" and order["payment_status"] == "paid"
    assert [h["status"] for h in order["history"]] == [
        "pending",
        "confirmed",
        "ready_for_pickup",
        "completed",
    ]
    recorded = events(order)
    assert [t for t, _ in recorded] == [
        "order_status_changed",
        "order_status_changed",
        "order_paid",
        "order_settled",
    ]
    assert recorded[1][1]["from_status"] == "ready_for_pickup"
    assert recorded[1][1]["to_status"] == "completed"
    assert recorded[2][1]["paid_by"] == "coord-1"


def test_a_delivery_order_is_shipped_then_completed_and_a_transfer_stays_unpaid():
    order = confirmed(method="delivery", payment="bank_transfer")
    domain.change_status(order, COORDINATOR, "shipped")
    domain.change_status(order, COORDINATOR, "completed")
    assert order["status"] == "completed" and order["payment_status"] == "unpaid"
    assert domain.mark_paid(order, COORDINATOR) is True
    assert order["payment_status"] == "paid" and order["paid_by"] == "coord-1"


@pytest.mark.parametrize(
    ("method", "current", "requested"),
    [
        ("pickup", "confirmed", "shipped"),
        ("delivery", "confirmed", "ready_for_pickup"),
        ("pickup", "confirmed", "completed"),
        ("pickup", "pending", "ready_for_pickup"),
        ("pickup", "cancelled", "completed"),
        ("delivery", "completed", "shipped"),
    ],
)
def test_an_illegal_transition_names_the_current_and_requested_state(method, current, requested):
    order = confirmed(method=method)
    order["status"] = current
    with pytest.raises(InvalidTransition) as raised:
        domain.change_status(order, COORDINATOR, requested)
    assert current in raised.value.message and requested in raised.value.message
    assert raised.value.status == 409


def test_asking_for_the_status_an_order_already_has_changes_nothing():
    order = confirmed()
    domain.change_status(order, SELLER, "ready_for_pickup")
    events(order)
    assert domain.change_status(order, SELLER, "ready_for_pickup") is False
    assert events(order) == []


@pytest.mark.parametrize(("actor", "error"), [(BUYER, NotAllowed), (STRANGER, OrderNotFound)])
def test_only_sellers_and_the_coordinator_move_an_order(actor, error):
    with pytest.raises(error):
        domain.change_status(confirmed(), actor, "ready_for_pickup")


@pytest.mark.parametrize(("actor", "error"), [(SELLER, NotAllowed), (BUYER, NotAllowed)])
def test_only_the_coordinator_records_a_payment(actor, error):
    with pytest.raises(error):
        domain.mark_paid(confirmed(), actor)


def test_a_cancelled_order_cannot_be_paid_and_paying_twice_changes_nothing():
    order = confirmed(payment="bank_transfer")
    assert domain.mark_paid(order, COORDINATOR) is True
    assert domain.mark_paid(order, COORDINATOR) is False
    cancelled = confirmed(payment="bank_transfer")
    domain.cancel(cancelled, BUYER)
    with pytest.raises(InvalidTransition):
        domain.mark_paid(cancelled, COORDINATOR)


def test_views_scope_orders_to_the_caller():
    assert domain.list_scope(BUYER, "buyer") == {"buyer_id": "buyer-1"}
    assert domain.list_scope(SELLER, "seller", HUB) == {"seller_ids": "seller-1", "hub_id": HUB}
    assert domain.list_scope(COORDINATOR, "coordinator") == {"hub_id": [HUB]}
    assert domain.list_scope(COORDINATOR, "coordinator", HUB) == {"hub_id": HUB}
    assert domain.list_scope(ADMIN, "coordinator") == {}
    with pytest.raises(NotAllowed):
        domain.list_scope(COORDINATOR, "coordinator", "hub-2")
    with pytest.raises(NotAllowed):
        domain.list_scope(BUYER, "coordinator")


def test_the_buyer_sellers_and_coordinator_see_an_order_and_nobody_else():
    order = place()
    for actor in (BUYER, SELLER, COORDINATOR, ADMIN):
        assert domain.check_can_view(order, actor) is order
    for actor in (STRANGER, OTHER_COORDINATOR):
        with pytest.raises(OrderNotFound):
            domain.check_can_view(order, actor)


def test_order_numbers_are_short_and_readable():
    assert domain.order_number(42) == "KD-000042"


def test_a_hub_id_that_is_not_text_is_refused():
    with pytest.raises(ValidationError):
        domain.check_coordinator(ADMIN, {"$ne": None})


@pytest.mark.parametrize(
    ("actor", "allowed"),
    [
        (COORDINATOR, True),
        (ADMIN, True),
        (OTHER_COORDINATOR, False),
        (SELLER, False),
        (BUYER, False),
    ],
)
def test_only_the_hub_s_coordinators_see_its_sales_report(actor, allowed):
    if allowed:
        domain.check_can_see_sales_report(actor, HUB)
    else:
        with pytest.raises(NotAllowed):
            domain.check_can_see_sales_report(actor, HUB)


def test_what_an_actor_is_to_an_order():
    order = place()
    assert domain.roles_in_order(order, BUYER) == {"buyer"}
    assert domain.roles_in_order(order, SELLER) == {"seller"}
    assert domain.roles_in_order(order, COORDINATOR) == {"coordinator"}
    assert domain.roles_in_order(order, ADMIN) == {"coordinator"}
    assert domain.roles_in_order(order, STRANGER) == set()


# --- suspension, payment after confirmation, each seller's own lines ----------------


def line_statuses(order):
    return {
        line["seller_id"]: contract.line_status(order["status"], line.get("status"))
        for line in order["items"]
    }


def test_a_seller_of_a_two_seller_order_moves_only_their_own_lines():
    order = confirmed()
    assert domain.change_status(order, SELLER, "ready_for_pickup") is True
    assert order["status"] == "confirmed" and events(order) == []
    assert line_statuses(order) == {"seller-1": "ready_for_pickup", "seller-2": "confirmed"}
    assert domain.change_status(order, SELLER, "ready_for_pickup") is False  # a retry

    domain.change_status(order, SELLER_2, "ready_for_pickup")
    assert order["status"] == "ready_for_pickup"
    ((event_type, data),) = events(order)
    assert event_type == "order_status_changed" and data["changed_by"] == "seller-2"
    assert (data["from_status"], data["to_status"]) == ("confirmed", "ready_for_pickup")

    domain.change_status(order, SELLER_2, "completed")
    assert order["status"] == "ready_for_pickup" and order["payment_status"] == "unpaid"
    assert events(order) == []
    domain.change_status(order, SELLER, "completed")
    assert order["status"] == "completed" and order["payment_status"] == "paid"
    assert [t for t, _ in events(order)] == ["order_status_changed", "order_paid", "order_settled"]
    assert [h["status"] for h in order["history"]] == [
        "pending",
        "confirmed",
        "ready_for_pickup",
        "completed",
    ]


def test_the_coordinator_moves_every_seller_s_lines_at_once():
    order = confirmed(method="delivery")
    domain.change_status(order, SELLER, "shipped")
    domain.change_status(order, COORDINATOR, "shipped")
    assert order["status"] == "shipped"
    assert line_statuses(order) == {"seller-1": "shipped", "seller-2": "shipped"}
    domain.change_status(order, COORDINATOR, "completed")
    assert line_statuses(order) == {"seller-1": "completed", "seller-2": "completed"}


def test_a_seller_s_lines_ahead_of_the_order_take_only_their_next_step():
    order = confirmed()
    domain.change_status(order, SELLER, "ready_for_pickup")
    with pytest.raises(InvalidTransition) as raised:
        domain.change_status(order, SELLER, "shipped")
    assert raised.value.message.startswith("Your items in this order are ready_for_pickup")
    assert "shipped" in raised.value.message and raised.value.status == 409
    assert order["status"] == "confirmed"


def test_a_one_seller_order_moves_as_its_seller_moves_it():
    tempe = make_product(seller_id="seller-1")
    fields = make_order(HUB, [tempe])
    order = domain.new_order(
        BUYER, "key-2", domain.fingerprint(fields), fields, projected(tempe), "KD-000002", 60
    )
    domain.stock_reserved(order)
    events(order)
    domain.change_status(order, SELLER, "ready_for_pickup")
    assert order["status"] == "ready_for_pickup"
    domain.change_status(order, SELLER, "completed")
    assert order["status"] == "completed" and order["payment_status"] == "paid"
    assert [t for t, _ in events(order)] == [
        "order_status_changed",
        "order_status_changed",
        "order_paid",
        "order_settled",
    ]


def test_a_suspended_seller_cannot_move_their_orders_and_the_coordinator_can():
    order = confirmed()
    suspended = make_actor("seller-1")  # the actor has no seller role any more
    assert domain.check_can_view(order, suspended) is order
    with pytest.raises(NotAllowed) as raised:
        domain.change_status(order, suspended, "ready_for_pickup")
    assert "suspended" in raised.value.message
    assert order["status"] == "confirmed" and line_statuses(order)["seller-1"] == "confirmed"
    domain.change_status(order, COORDINATOR, "ready_for_pickup")
    assert order["status"] == "ready_for_pickup"


def test_a_pending_order_cannot_be_paid():
    order = place(payment="bank_transfer")
    with pytest.raises(InvalidTransition) as raised:
        domain.mark_paid(order, COORDINATOR)
    assert raised.value.status == 409 and "confirmed" in raised.value.message
    assert order["payment_status"] == "unpaid"


def test_a_suspended_buyer_cannot_order_in_that_hub():
    fields = {"hub_id": HUB, "items": [{"product_id": "p1", "quantity": 1}]}
    products = projected(make_product(product_id="p1", seller_id="seller-1"))
    with pytest.raises(NotAllowed) as raised:
        domain.check_can_place(BUYER, fields, products, {("buyer-1", "buyer")})
    assert raised.value.status == 403 and "suspended" in raised.value.message
    domain.check_can_place(BUYER, fields, products, {("buyer-1", "seller")})
    domain.check_can_place(BUYER, fields, products, set())


def test_a_suspended_seller_s_products_cannot_be_ordered():
    tempe = make_product(product_id="p1", seller_id="seller-1")
    kopi = make_product(product_id="p2", seller_id="seller-2")
    fields = make_order(HUB, [tempe, kopi])
    with pytest.raises(ProductNotAvailable) as raised:
        domain.check_can_place(BUYER, fields, projected(tempe, kopi), {("seller-2", "seller")})
    assert set(raised.value.details) == {"items.1.product_id"}
    domain.check_can_place(BUYER, fields, projected(tempe, kopi), {("seller-2", "buyer")})


@pytest.mark.parametrize(
    "typed", ["KD-000123", "kd000123", "KD 123", "kd-123", " 000123 ", "123", "Kd - 0123"]
)
def test_an_order_number_is_read_however_people_type_it(typed):
    assert domain.normalise_number(typed) == "KD-000123"


def test_a_number_past_six_digits_keeps_them_all():
    assert domain.normalise_number("kd1234567") == "KD-1234567" == domain.order_number(1234567)


@pytest.mark.parametrize(
    "typed", ["", "KD", "KD-", "0", "KD-000000", "12a", "AB-123", "1.000", "-", None, 123]
)
def test_what_cannot_be_an_order_number_is_none(typed):
    assert domain.normalise_number(typed) is None


# --- the coordinator orders for a member -----------------------------------------------


def test_an_order_for_a_member_is_theirs_and_names_the_coordinator():
    order = place(buyer=COORDINATOR, on_behalf_of="buyer-1")
    assert order["buyer_id"] == "buyer-1" and order["acted_by"] == "coord-1"
    assert order["history"][0]["by"] == "buyer-1"
    assert order["history"][0]["acted_by"] == "coord-1"
    ((_, data),) = events(order)
    assert data["buyer_id"] == "buyer-1" and data["acted_by"] == "coord-1"


def test_an_order_of_ones_own_names_nobody_acting():
    order = place(on_behalf_of="buyer-1")
    assert order["buyer_id"] == "buyer-1" and order["acted_by"] is None
    assert order["history"][0]["acted_by"] is None


def test_a_coordinators_key_for_a_member_is_kept_apart_from_the_members_own():
    assert domain.stored_key("k1", None) == "k1"
    assert domain.stored_key("k1", "coord-1") == "coord-1:k1"


@pytest.mark.parametrize("actor", [COORDINATOR, ADMIN])
def test_the_hubs_coordinator_or_an_admin_orders_for_an_approved_member(actor):
    fields = {"hub_id": HUB, "items": [], "on_behalf_of": "buyer-1"}
    domain.check_can_place(actor, fields, {}, set(), standing=True)


@pytest.mark.parametrize(
    ("actor", "standing"),
    [
        (OTHER_COORDINATOR, True),  # another hub's coordinator
        (SELLER, True),  # not a coordinator
        (STRANGER, True),
        (COORDINATOR, False),  # the member is suspended in the hub
        (COORDINATOR, None),  # never approved in the hub: applicant, other hub, stranger
    ],
)
def test_nobody_else_orders_for_a_member_nor_for_one_not_in_good_standing(actor, standing):
    fields = {"hub_id": HUB, "items": [], "on_behalf_of": "buyer-1"}
    with pytest.raises(NotAllowed) as refused:
        domain.check_can_place(actor, fields, {}, set(), standing=standing)
    assert "on_behalf_of" in refused.value.details
