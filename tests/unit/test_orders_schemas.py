"""What the orders service accepts, and how it names what it refuses."""

import datetime

import pytest

from services.common.errors import ValidationError
from services.orders import domain
from services.orders.schemas import ListOrdersSchema, PlaceOrderSchema, ReportQuerySchema


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
    [
        ({"from": "yesterday"}, "from"),
        ({"to": "2026-13-01"}, "to"),
        ({"from": "2026-11-01T25:00"}, "from"),
        ({"from": "9999-12-31T23:00:00-05:00"}, "from"),
        ({"from": "0001-01-01T00:00:00+05:00"}, "from"),
        ({"to": "9999-12-31"}, "to"),
    ],
)
def test_report_dates_must_be_iso(query, field):
    with pytest.raises(ValidationError) as raised:
        ReportQuerySchema().load_or_raise(query)
    assert field in raised.value.details


def test_report_dates_load_as_utc_bounds():
    loaded = ReportQuerySchema().load_or_raise(
        {"from": "2026-11-01T07:00:00+07:00", "to": "2026-11-30"}
    )
    assert loaded["start"].isoformat() == "2026-11-01T00:00:00+00:00"
    assert loaded["end_is_date"] is True


def test_report_days_are_wib_days():
    loaded = ReportQuerySchema().load_or_raise({"from": "2026-01-02", "to": "2026-01-02"})
    start, end = domain.report_period(**loaded)
    assert start == datetime.datetime(2026, 1, 1, 17, tzinfo=datetime.UTC)
    assert end == datetime.datetime(2026, 1, 2, 17, tzinfo=datetime.UTC)
    placed = datetime.datetime(2026, 1, 1, 18, tzinfo=datetime.UTC)  # 2 Jan, 01:00 WIB
    assert start <= placed < end


@pytest.mark.parametrize(
    ("day", "starts"),
    [
        ("2026-01-02", datetime.datetime(2026, 1, 1, 17, tzinfo=datetime.UTC)),
        ("2026-07-01", datetime.datetime(2026, 6, 30, 17, tzinfo=datetime.UTC)),
    ],
)
def test_a_report_day_is_a_day_in_wib_all_year_round(day, starts):
    assert ReportQuerySchema().load_or_raise({"from": day})["start"] == starts


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_report_days_at_the_ends_of_the_calendar_are_answered(day):
    try:
        loaded = ReportQuerySchema().load_or_raise({"from": day, "to": day})
    except ValidationError as refused:
        assert "from" in refused.details
    else:
        start, end = domain.report_period(**loaded)
        assert start < end


@pytest.mark.parametrize(
    ("query", "field"),
    [({"as": "admin"}, "as"), ({"status": "lost"}, "status"), ({"page_size": "500"}, "page_size")],
)
def test_bad_list_queries_name_the_field(query, field):
    with pytest.raises(ValidationError) as raised:
        ListOrdersSchema().load_or_raise(query)
    assert field in raised.value.details
