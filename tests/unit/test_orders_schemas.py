"""What the orders service accepts, and how it names what it refuses."""

import pytest

from services.common.errors import ValidationError
from services.orders.schemas import ListOrdersSchema, PlaceOrderSchema


def body(**overrides):
    return {
        "hub_id": "hub-1",
        "items": [{"product_id": "p1", "quantity": 2}],
        "fulfilment": {"method": "pickup"},
        "payment_method": "cod",
        **overrides,
    }


def test_a_good_order_loads():
    loaded = PlaceOrderSchema().load_or_raise(body(note="Tolong dibungkus"))
    assert loaded["items"] == [{"product_id": "p1", "quantity": 2}]
    assert loaded["fulfilment"] == {"method": "pickup", "address": None}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"items": []}, "items"),
        ({"items": [{"product_id": f"p{i}", "quantity": 1} for i in range(51)]}, "items"),
        (
            {"items": [{"product_id": "p1", "quantity": 1}, {"product_id": "p1", "quantity": 2}]},
            "items",
        ),
        ({"items": [{"product_id": "p1", "quantity": 0}]}, "items.0.quantity"),
        ({"items": [{"product_id": "p1", "quantity": -3}]}, "items.0.quantity"),
        ({"items": [{"product_id": "p1", "quantity": 1000}]}, "items.0.quantity"),
        ({"items": [{"product_id": "p1", "quantity": 1.5}]}, "items.0.quantity"),
        ({"items": [{"product_id": "p1", "quantity": "2"}]}, "items.0.quantity"),
        ({"items": [{"product_id": {"$gt": ""}, "quantity": 1}]}, "items.0.product_id"),
        ({"items": [{"quantity": 1}]}, "items.0.product_id"),
        ({"items": "p1"}, "items"),
        ({"fulfilment": {"method": "delivery"}}, "fulfilment.address"),
        ({"fulfilment": {"method": "delivery", "address": "  "}}, "fulfilment.address"),
        ({"fulfilment": {"method": "drone"}}, "fulfilment.method"),
        ({"payment_method": "card"}, "payment_method"),
        ({"note": "x" * 501}, "note"),
        ({"hub_id": ""}, "hub_id"),
        ({"$where": "1"}, "$where"),
    ],
)
def test_bad_orders_name_the_field(overrides, field):
    with pytest.raises(ValidationError) as raised:
        PlaceOrderSchema().load_or_raise(body(**overrides))
    assert field in raised.value.details, raised.value.details


def test_missing_parts_are_each_named():
    with pytest.raises(ValidationError) as raised:
        PlaceOrderSchema().load_or_raise({})
    assert {"hub_id", "items", "fulfilment", "payment_method"} <= set(raised.value.details)


@pytest.mark.parametrize(
    ("query", "field"),
    [({"as": "admin"}, "as"), ({"status": "lost"}, "status"), ({"page_size": "500"}, "page_size")],
)
def test_bad_list_queries_name_the_field(query, field):
    with pytest.raises(ValidationError) as raised:
        ListOrdersSchema().load_or_raise(query)
    assert field in raised.value.details
