"""What the catalogue accepts, and how it names what it refuses."""

import pytest

from services.catalogue.schemas import (
    CreateProductSchema,
    ShowroomQuerySchema,
    StockChangeSchema,
    UpdateProductSchema,
)
from services.common.errors import ValidationError
from tests.support.catalogue import make_product


def refused_fields(schema, payload):
    with pytest.raises(ValidationError) as raised:
        schema.load_or_raise(payload)
    return set(raised.value.details)


def test_a_complete_product_is_accepted_with_at_most_a_few_images():
    product = CreateProductSchema().load_or_raise(make_product("h", images=[]))
    assert product["price"] == 15_000 and product["images"] == []
    assert "images" in CreateProductSchema().load_or_raise({**product, "hub_id": "h"})


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"price": 0}, "price"),
        ({"price": -500}, "price"),
        ({"price": 12.5}, "price"),
        ({"price": "15000"}, "price"),
        ({"price": True}, "price"),
        ({"price": 10**12}, "price"),
        ({"stock": -1}, "stock"),
        ({"stock": 2.0001}, "stock"),
        ({"name": ""}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"name": {"$gt": ""}}, "name"),
        ({"category": "weapons"}, "category"),
        ({"category": {"$ne": None}}, "category"),
        ({"description": "x" * 2001}, "description"),
        ({"description": "x" * 10_000_000}, "description"),
        ({"unit": "12kg"}, "unit"),
        ({"unit": ""}, "unit"),
        ({"images": ["javascript:alert(1)"]}, "images"),
        ({"images": ["ftp://img.example.id/a.jpg"]}, "images"),
        ({"images": "https://img.example.id/a.jpg"}, "images"),
        ({"images": [f"https://img.example.id/{n}.jpg" for n in range(6)]}, "images"),
        ({"hub_id": {"$gt": ""}}, "hub_id"),
        ({"$where": "1"}, "$where"),
        ({"status": "approved"}, "status"),
    ],
)
def test_bad_products_are_refused_naming_the_field(overrides, field):
    assert field in refused_fields(CreateProductSchema(), {**make_product("h"), **overrides})


@pytest.mark.parametrize("missing", ["hub_id", "name", "description", "category", "price", "unit"])
def test_a_product_without_a_required_field_is_refused(missing):
    payload = make_product("h")
    del payload[missing]
    assert missing in refused_fields(CreateProductSchema(), payload)


@pytest.mark.parametrize(
    ("payload", "field"),
    [({}, "_schema"), ({"stock": 3}, "stock"), ({"price": 0}, "price")],
)
def test_bad_edits_are_refused(payload, field):
    assert field in refused_fields(UpdateProductSchema(), payload)


@pytest.mark.parametrize("delta", [0, 1.5, "5", None, True, 10**7])
def test_a_stock_change_is_a_whole_number_other_than_zero(delta):
    assert "delta" in refused_fields(StockChangeSchema(), {"delta": delta})


def test_showroom_queries_take_strings_from_the_url():
    query = ShowroomQuerySchema().load_or_raise(
        {"min_price": "1000", "max_price": "20000", "page": "2", "q": ".*"}
    )
    assert (query["min_price"], query["max_price"], query["page"]) == (1000, 20000, 2)
    assert query["q"] == ".*" and query["sort"] == "newest" and query["page_size"] == 20


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"min_price": "abc"}, "min_price"),
        ({"min_price": "-1"}, "min_price"),
        ({"min_price": "5000", "max_price": "100"}, "max_price"),
        ({"max_price": "99999999999999999999999"}, "max_price"),
        ({"page": "0"}, "page"),
        ({"page": "99999999999999999999"}, "page"),
        ({"page_size": "101"}, "page_size"),
        ({"sort": "cheapest"}, "sort"),
        ({"category": "weapons"}, "category"),
        ({"q": "x" * 101}, "q"),
        ({"q": {"$gt": ""}}, "q"),
        ({"q[$gt]": ""}, "q[$gt]"),
        ({"status": "deleted"}, "status"),
    ],
)
def test_bad_showroom_queries_are_refused_naming_the_parameter(query, field):
    assert field in refused_fields(ShowroomQuerySchema(), query)
