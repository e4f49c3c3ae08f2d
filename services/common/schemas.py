"""Marshmallow building blocks shared by every service's ``schemas.py``."""

import datetime
import functools
from collections.abc import Mapping, Sequence
from typing import Any, Self, cast

import marshmallow
from marshmallow import RAISE, fields, validate

from services.common.envelope import isoformat
from services.common.errors import ValidationError
from services.common.phone import normalise_mobile, normalise_phone
from services.common.types import Document

MAX_PAGE = 10_000
MAX_PAGE_SIZE = 100

FieldErrors = dict[str, str | list[Any] | dict[Any, Any]]
"""A field's ``error_messages``, typed as marshmallow types them."""


class Schema(marshmallow.Schema):
    """Strict: unknown fields are refused, so ``$``-operators never get through."""

    class Meta:
        unknown = RAISE

    error_messages = {
        "unknown": "Unknown field; remove it.",
        "type": "Send a JSON object.",
    }

    @classmethod
    def shared(cls, many: bool = False) -> Self:
        """The one instance of this schema (per ``many``) that every call uses: making
        a schema copies each of its fields, which costs more than most loads and dumps,
        and a schema keeps nothing of a call, so one instance serves them all."""
        return cast(Self, _instance(cls, many))

    def load_or_raise(self, data: Any, **kwargs: Any) -> Document:
        """``load`` that raises the API's ``ValidationError`` naming each bad field;
        ``data`` is whatever the caller sent."""
        try:
            loaded: Document = self.load(data if data is not None else {}, **kwargs)
            return loaded
        except marshmallow.ValidationError as exc:
            details = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
            fields_named = ", ".join(sorted(details))
            raise ValidationError(f"Invalid request: check {fields_named}.", details) from None


@functools.cache
def _instance(schema: type[Schema], many: bool) -> Schema:
    return schema(many=many)


def _flatten(messages: Mapping[Any, Any], prefix: str = "") -> dict[str, Any]:
    """``{"items": {0: {"quantity": [..]}}}`` → ``{"items.0.quantity": [..]}``."""
    flat: dict[str, Any] = {}
    for key, value in messages.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


class FlatSchema(Schema):
    """Nested errors are named by their path (``bank_account.number``), so every
    detail is ``{field: [messages]}``."""

    def load_or_raise(self, data: Any, **kwargs: Any) -> Document:
        try:
            return super().load_or_raise(data, **kwargs)
        except ValidationError as exc:
            details = _flatten(exc.details)
            fields_named = ", ".join(sorted(details))
            raise ValidationError(f"Invalid request: check {fields_named}.", details) from None


class Phone(fields.String):
    """A phone number in any local form, loaded as E.164."""

    normalise = staticmethod(normalise_phone)

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return self.normalise(text)
        except ValueError as exc:
            raise marshmallow.ValidationError(str(exc)) from None


class MobilePhone(Phone):
    """An Indonesian mobile number (one that receives SMS) in any local form, loaded
    as E.164: for people who are not members, reached only by SMS."""

    normalise = staticmethod(normalise_mobile)


class Timestamp(fields.DateTime):
    """Aware UTC datetimes, dumped as ISO 8601 with ``Z``."""

    def _serialize(
        self, value: datetime.datetime | None, attr: str | None, obj: Any, **kwargs: Any
    ) -> str | None:
        return None if value is None else isoformat(value)


def representable_in_utc(moment: datetime.datetime) -> None:
    """A validator: the moment, once in UTC, has a day to spare before the calendar's
    ends, so converting it or stepping a day from it never overflows."""
    try:
        year = moment.astimezone(datetime.UTC).year
    except OverflowError:
        year = datetime.MAXYEAR
    if not datetime.MINYEAR < year < datetime.MAXYEAR:
        raise marshmallow.ValidationError(
            f"Send a time between the years {datetime.MINYEAR + 1} and {datetime.MAXYEAR - 1}."
        )


TEXT_ERRORS: FieldErrors = {"invalid": "Send a text string.", "required": "Required; send a value."}


# Spaces that may surround text (every character ``str.strip`` removes, less the
# control characters, which text never holds); written out so the document's
# ``pattern`` means the same in every regex dialect.
SPACES = r"\t\n\r \xa0\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u3000\ufeff"
CONTROLS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
TEXT_CHAR = f"[^{CONTROLS}]"
NOT_BLANK = validate.Regexp(
    f"^[{SPACES}]*[^{SPACES}{CONTROLS}]{TEXT_CHAR}*$",
    error="Send some text: not only spaces, and no control characters.",
)
"""Text with something to read in it, and no control characters but tab and newline."""


def text(max_length: int, pattern: validate.Regexp = NOT_BLANK, **kwargs: Any) -> fields.String:
    """A string of 1 to ``max_length`` characters matching ``pattern`` (a ``Regexp``
    that refuses blanks too: the document shows one pattern per field)."""
    return fields.String(
        validate=[
            validate.Length(
                min=1, max=max_length, error="Send between {min} and {max} characters."
            ),
            pattern,
        ],
        error_messages=TEXT_ERRORS,
        **kwargs,
    )


def choice(options: Sequence[str], **kwargs: Any) -> fields.String:
    """A string that must be one of ``options``; the error lists them."""
    return fields.String(
        validate=validate.OneOf(options, error=f"Send one of: {', '.join(options)}."),
        error_messages=TEXT_ERRORS,
        **kwargs,
    )


def bounded_integer(minimum: int, maximum: int, **kwargs: Any) -> fields.Integer:
    """A whole number from ``minimum`` to ``maximum``: every number the API takes has
    both bounds, which the document states, so none reaches a store that cannot hold
    it (a 21-digit page overflows MongoDB's 64-bit integers)."""
    return fields.Integer(
        validate=validate.Range(min=minimum, max=maximum, error="Send from {min} to {max}."),
        error_messages={"invalid": f"Send a whole number from {minimum} to {maximum}."},
        **kwargs,
    )


class PageSchema(Schema):
    page = bounded_integer(1, MAX_PAGE, load_default=1)
    page_size = bounded_integer(1, MAX_PAGE_SIZE, load_default=20)


def page_of(items: Sequence[Any], page: int, page_size: int, total: int) -> dict[str, Any]:
    return {"items": items, "page": page, "page_size": page_size, "total": total}
