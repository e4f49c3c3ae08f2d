"""Report periods: the ``from`` and ``to`` of every report, with days in WIB.

Hubs keep Asia/Jakarta time (WIB, UTC+7, no daylight saving), so a report "for 1
November" means 1 November in WIB: ``2026-11-01`` alone is that whole day there. A
time with an offset is taken as it says, one without as UTC. Every report of every
service reads its period here, so a day means the same in all of them.
"""

import datetime
from collections.abc import Mapping
from typing import Any

from marshmallow import fields, post_load

from services.common.errors import ValidationError
from services.common.schemas import Schema, representable_in_utc

WIB = datetime.timezone(datetime.timedelta(hours=7), "WIB")
"""Asia/Jakarta, the hubs' time (no daylight saving): a report's days are its days."""

Period = tuple[datetime.datetime | None, datetime.datetime | None]


class DateOrTime(fields.Field[tuple[datetime.datetime, bool]]):
    """``2026-11-01`` (a whole day in WIB) or ``2026-11-01T08:00:00Z``; a time without
    an offset means UTC. Loads as ``(moment in UTC, whether a date alone was sent)``."""

    default_error_messages = {
        "invalid": "Send an ISO 8601 date (2026-11-01) or time (2026-11-01T08:00:00Z)."
    }
    OPENAPI_EXTRA = {  # for the API document
        "type": "string",
        "anyOf": [{"format": "date"}, {"format": "date-time"}],
        "example": "2026-11-01",
    }

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> tuple[datetime.datetime, bool]:
        if not isinstance(value, str):
            raise self.make_error("invalid")
        try:
            if len(value) == 10:
                day = datetime.date.fromisoformat(value)
                moment = datetime.datetime.combine(day, datetime.time(), tzinfo=WIB)
                is_date = True
            else:
                moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
                is_date = False
        except ValueError:
            raise self.make_error("invalid") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=datetime.UTC)
        representable_in_utc(moment)
        return moment.astimezone(datetime.UTC), is_date


class ReportQuerySchema(Schema):
    from_ = DateOrTime(
        data_key="from",
        load_default=None,
        metadata={"description": "A date alone starts at the beginning of that day in WIB."},
    )
    to = DateOrTime(
        load_default=None,
        metadata={
            "description": "Later than from; a date alone counts its whole day (in WIB, "
            "Asia/Jakarta, like from)."
        },
    )

    @post_load
    def bounds(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        start, _ = data["from_"] or (None, False)
        end, end_is_date = data["to"] or (None, False)
        return {"start": start, "end": end, "end_is_date": end_is_date}


def report_period(
    start: datetime.datetime | None, end: datetime.datetime | None, end_is_date: bool = False
) -> Period:
    """The half-open range ``[start, end)``; a date-only ``to`` includes that day."""
    if end is not None and end_is_date:
        end = end + datetime.timedelta(days=1)
    if start is not None and end is not None and start >= end:
        raise ValidationError(
            "The report period is empty.", {"to": ["Send a 'to' later than 'from'."]}
        )
    return start, end


def period_of(query: object) -> Period:
    """``{"from": "2026-11-01", "to": "2026-11-30"}`` as a report's query arrives →
    ``[start, end)`` in UTC (either ``None`` when not sent); ``ValidationError``
    naming ``from`` or ``to``."""
    return report_period(**ReportQuerySchema().load_or_raise(query))


def in_period(start: datetime.datetime | None, end: datetime.datetime | None) -> dict[str, Any]:
    """The store's condition on a time field for ``[start, end)`` (``{}``: any time)."""
    condition: dict[str, Any] = {}
    if start is not None:
        condition["$gte"] = start
    if end is not None:
        condition["$lt"] = end
    return condition


def wib_day(moment: datetime.datetime) -> str:
    """``2026-11-30T18:00:00Z`` → ``"2026-12-01"``: the day it was in the hubs' time."""
    return moment.astimezone(WIB).date().isoformat()


def report_days(
    start: datetime.datetime | None, end: datetime.datetime | None
) -> tuple[str | None, str | None]:
    """``[first day, day after the last)`` of the period, as WIB dates, for totals
    kept per day (the network report's): the period must be whole days."""
    for name, moment in (("from", start), ("to", end)):
        if moment is not None and moment.astimezone(WIB).time() != datetime.time():
            raise ValidationError(
                "The network report counts whole days.",
                {name: ["Send a date (2026-11-01): whole days in WIB (Asia/Jakarta)."]},
            )
    return (
        None if start is None else wib_day(start),
        None if end is None else wib_day(end),
    )


def days_of(query: object) -> tuple[str | None, str | None]:
    """``{"from": "2026-11-01", "to": "2026-11-30"}`` → ``("2026-11-01",
    "2026-12-01")``: ``period_of`` in whole WIB days (``report_days``)."""
    return report_days(*period_of(query))
