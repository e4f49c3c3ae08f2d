"""Report periods: what every report's ``from`` and ``to`` accept, and days in WIB."""

import datetime

import pytest

from services.common.errors import ValidationError
from services.common.periods import (
    ReportQuerySchema,
    days_of,
    in_period,
    period_of,
    report_days,
    report_period,
)


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
    start, end = report_period(**loaded)
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
        start, end = report_period(**loaded)
        assert start < end


def test_a_date_only_to_includes_that_whole_day_and_an_empty_period_is_refused():
    start = datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC)
    end = datetime.datetime(2026, 11, 30, tzinfo=datetime.UTC)
    assert report_period(start, end, end_is_date=True) == (
        start,
        end + datetime.timedelta(days=1),
    )
    with pytest.raises(ValidationError) as raised:
        report_period(end, start)
    assert "to" in raised.value.details


def test_a_period_of_a_query_is_its_half_open_range_in_utc():
    start, end = period_of({"from": "2026-11-01", "to": "2026-11-30"})
    assert start == datetime.datetime(2026, 10, 31, 17, tzinfo=datetime.UTC)
    assert end == datetime.datetime(2026, 11, 30, 17, tzinfo=datetime.UTC)
    assert period_of({}) == (None, None)
    assert in_period(start, end) == {"$gte": start, "$lt": end}
    assert in_period(None, None) == {}


def test_the_network_report_counts_whole_wib_days():
    wib = datetime.timezone(datetime.timedelta(hours=7))
    start = datetime.datetime(2026, 11, 1, tzinfo=wib)
    end = datetime.datetime(2026, 12, 1, tzinfo=wib)
    assert report_days(start, end) == ("2026-11-01", "2026-12-01")
    assert report_days(None, None) == (None, None)
    with pytest.raises(ValidationError) as refused:
        report_days(start + datetime.timedelta(hours=3), end)
    assert "from" in refused.value.details
    assert days_of({"from": "2026-11-01", "to": "2026-11-30"}) == ("2026-11-01", "2026-12-01")
