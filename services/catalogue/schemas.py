"""Catalogue's requests and responses, for its service and for the gateway."""

import numbers

import marshmallow
from marshmallow import fields, post_load, validate, validates_schema

from services.catalogue import contract
from services.common.schemas import (
    TEXT_ERRORS,
    PageSchema,
    Schema,
    Timestamp,
    bounded_integer,
    choice,
    text,
)

MAX_IMAGES = 5
MAX_URL_LENGTH = 500
NUMBER_ERRORS = {"invalid": "Send a whole number.", "required": "Required; send a value."}
UNIT_PATTERN = r"^[^\W\d_]+( [^\W\d_]+)*$"  # letters, single spaces: pcs, kg, ikat, butir
_LETTERS = contract.CODE_LETTERS + contract.CODE_LETTERS.lower()
_CODE_CHARACTERS = contract.CODE_ALPHABET + contract.CODE_LETTERS.lower()
CODE_PATTERN = (
    f"^[{_LETTERS}][{_CODE_CHARACTERS}]"
    f"{{{contract.CODE_LENGTH - 2},{contract.MAX_CODE_LENGTH - 2}}}[{_LETTERS}]$"
)
"""A product code in any case (``K7MA``, ``k7ma``)."""


class WholeNumber(fields.Integer):
    """An integer in JSON (not ``12.5``, ``"12"`` or ``true``)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("error_messages", NUMBER_ERRORS)
        super().__init__(strict=True, **kwargs)

    def _validated(self, value):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise self.make_error("invalid")
        return super()._validated(value)


def _price(**kwargs):
    return WholeNumber(
        validate=validate.Range(
            min=1,
            max=contract.MAX_PRICE,
            error="Send a whole number of rupiah from {min} to {max}.",
        ),
        **kwargs,
    )


def _unit(**kwargs):
    return fields.String(
        validate=[
            validate.Length(min=1, max=20, error="Send between {min} and {max} characters."),
            validate.Regexp(UNIT_PATTERN, error="Send a unit word such as pcs, kg, pack or ikat."),
        ],
        error_messages=TEXT_ERRORS,
        **kwargs,
    )


def _images(**kwargs):
    url = fields.Url(
        schemes={"http", "https"},
        validate=validate.Length(max=MAX_URL_LENGTH),
        error_messages={"invalid": "Send an http:// or https:// image address."},
    )
    return fields.List(
        url,
        validate=validate.Length(max=MAX_IMAGES, error="Send at most {max} images."),
        error_messages={"invalid": "Send a list of image addresses."},
        **kwargs,
    )


class CreateProductSchema(Schema):
    hub_id = text(64, required=True)
    name = text(120, required=True)
    description = text(2000, required=True)
    category = choice(contract.CATEGORIES, required=True)
    price = _price(required=True)
    unit = _unit(required=True)
    stock = WholeNumber(
        required=True,
        validate=validate.Range(min=0, max=contract.MAX_STOCK, error="Send from {min} to {max}."),
    )
    images = _images(load_default=list)
    on_behalf_of = text(
        64,
        metadata={
            "description": "The hub's coordinator submitting for an approved seller of the "
            "hub: the seller's member id (the product is theirs)."
        },
    )


class UpdateProductSchema(Schema):
    name = text(120)
    description = text(2000)
    category = choice(contract.CATEGORIES)
    price = _price()
    unit = _unit()
    images = _images()

    OPENAPI_EXTRA = {"minProperties": 1}  # for the API document: what something_to_change checks

    @validates_schema
    def something_to_change(self, data, **kwargs):
        if not data:
            raise marshmallow.ValidationError(
                f"Send at least one of: {', '.join(contract.EDITABLE_FIELDS)} "
                "(stock changes go to POST /api/v1/products/{id}/stock).",
                "_schema",
            )


class StockChangeSchema(Schema):
    delta = WholeNumber(
        required=True,
        validate=[
            validate.Range(
                min=-contract.MAX_STOCK, max=contract.MAX_STOCK, error="Send from {min} to {max}."
            ),
            validate.NoneOf([0], error="Send a change other than 0."),
        ],
    )


class RejectSchema(Schema):
    reason = text(500, required=True)


def _rupiah_bound(**kwargs):
    return fields.Integer(
        **kwargs,
        validate=validate.Range(min=0, max=contract.MAX_PRICE, error="Send from {min} to {max}."),
        error_messages=NUMBER_ERRORS,
    )


class ShowroomQuerySchema(PageSchema):
    hub_id = text(64)
    seller_id = text(64)
    category = choice(contract.CATEGORIES)
    min_price = _rupiah_bound()
    max_price = _rupiah_bound(metadata={"description": "At least min_price when both are sent."})
    q = text(100)
    code = text(
        contract.MAX_CODE_LENGTH,
        validate.Regexp(
            CODE_PATTERN,
            error="Send a product code as shown on the product: 4 to 6 letters and digits "
            "(any case), such as K7MA.",
        ),
        metadata={"description": "A product's code, in any case."},
    )
    sort = choice(contract.SORTS, load_default=contract.NEWEST)
    status = choice(contract.PRODUCT_STATUSES, load_default=contract.APPROVED)

    @post_load
    def code_in_upper_case(self, data, **kwargs):
        if data.get("code"):
            data["code"] = data["code"].upper()
        return data

    @validates_schema
    def price_range_is_a_range(self, data, **kwargs):
        low, high = data.get("min_price"), data.get("max_price")
        if low is not None and high is not None and low > high:
            raise marshmallow.ValidationError(
                "Send a max_price at least as large as min_price.", "max_price"
            )


class ProductSchema(Schema):
    id = fields.String(attribute="_id")
    code = fields.String(
        metadata={"description": "Short and unique: what members type in a text message."}
    )
    hub_id = fields.String()
    seller_id = fields.String()
    name = fields.String()
    description = fields.String()
    category = fields.String()
    price = fields.Integer()
    unit = fields.String()
    stock = fields.Integer()
    images = fields.List(fields.String())
    status = fields.String()
    acted_by = fields.String(
        allow_none=True,
        metadata={"description": "The coordinator who submitted it for its seller, if one did."},
    )
    rejection_reason = fields.String(allow_none=True)
    reviewed_at = Timestamp(allow_none=True)
    created_at = Timestamp()
    updated_at = Timestamp()


class ShowroomEntrySchema(ProductSchema):
    """A product on show as ``showroom_snapshot`` gives it: as ``get_product`` shows
    it, with the counters that order it among the changes events announce."""

    version = fields.Integer(dump_default=0)
    stock_version = fields.Integer(dump_default=0)


class SnapshotPageSchema(Schema):
    after = text(64, allow_none=True, metadata={"description": "The last id of the page before."})
    limit = bounded_integer(1, 1000, load_default=500)


class ProductSummarySchema(ProductSchema):
    """A showroom item: what a list on a slow phone needs, and no more."""

    image = fields.Method("first_image")

    class Meta(Schema.Meta):
        fields = ("id", "code", "hub_id", "name", "category", "price", "unit", "stock", "image")

    def first_image(self, product):
        images = product.get("images") or []
        return images[0] if images else None


class IntakeSchema(Schema):
    """Goods a seller left at the showroom, received by the hub's coordinator."""

    product_id = text(64, required=True)
    quantity = WholeNumber(
        required=True,
        validate=validate.Range(
            min=1, max=contract.MAX_STOCK, error="Send how many arrived: {min} to {max}."
        ),
    )
    note = text(500, load_default=None, allow_none=True)


class IntakeRecordSchema(Schema):
    id = fields.String(attribute="_id")
    hub_id = fields.String()
    product_id = fields.String()
    code = fields.String(allow_none=True)
    name = fields.String()
    seller_id = fields.String()
    quantity = fields.Integer()
    note = fields.String(allow_none=True)
    stock_after = fields.Integer(metadata={"description": "The product's stock once received."})
    received_by = fields.String()
    received_at = Timestamp()
