"""The whole HTTP API, fuzzed from its own OpenAPI document (issue 7, bad input).

No request may get a 5xx, every answer must match the document (status, media type,
body), what the document forbids must be refused and what it allows must not be
refused as invalid. ``make test-fuzz`` runs a few thousand cases; ``make test`` one per
operation, caller and kind of data. The seed is ``tests.support.fuzz.SEED``.
"""

import datetime

from tests.support.endpoints import build_world
from tests.support.fuzz import Fuzzer

SMOKE_CALLERS = ("anonymous", "seller")
FULL_CALLERS = ("anonymous", "buyer", "seller", "coordinator", "admin")


def _a_price_range(case):
    """``max_price`` is at least ``min_price`` (the document's description says so)."""
    query = case.query or {}
    try:
        return int(query["min_price"]) <= int(query["max_price"])
    except (KeyError, TypeError, ValueError):
        return True


def _a_report_period(case):
    """``to`` is later than ``from``; a date alone counts its whole day."""
    query = case.query or {}
    try:
        start, end = _moment(query["from"]), _moment(query["to"])
    except (KeyError, TypeError, ValueError):
        return True
    if len(query["to"]) == 10:
        end += datetime.timedelta(days=1)
    return start < end


def _whole_days(case):
    """The network report counts whole WIB days: ``from`` and ``to`` are dates, ``to``
    not before ``from``."""
    query = case.query or {}
    for name in ("from", "to"):
        if name in query and not (isinstance(query[name], str) and len(query[name]) == 10):
            return False
    return _a_report_period(case)


def _a_stock_change_that_fits(case):
    """The stock after a change stays within 0 and 1,000,000, which depends on the
    stock the product has and no document can state: valid data moves it a little."""
    body = case.body if isinstance(case.body, dict) else {}
    delta = body.get("delta")
    return not isinstance(delta, int) or abs(delta) <= 1_000


def _a_share_that_fits(case):
    """An agent's share is at most the hub's commission, which the fuzzer itself may
    have just set to anything from 0: only a share of 0 always fits."""
    body = case.body if isinstance(case.body, dict) else {}
    return body.get("commission_percent") == 0


def _no_agent_named(case):
    """A group's ``agent_id`` must be an agent of that hub, which no document can
    state: valid data leaves it out."""
    body = case.body if isinstance(case.body, dict) else {}
    return body.get("agent_id") is None


def _moment(text):
    moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


# Rules across parameters, which OpenAPI 3.0 can state only in a description: valid
# data keeps them (invalid data is free to break them, and is refused).
DESCRIBED_RULES = {
    "GET /api/v1/products": _a_price_range,
    "GET /api/v1/hubs/{hub_id}/reports/sales": _a_report_period,
    "GET /api/v1/reports/network": _whole_days,
    "POST /api/v1/products/{product_id}/stock": _a_stock_change_that_fits,
    "POST /api/v1/hubs/{hub_id}/agents": _a_share_that_fits,
    "POST /api/v1/hubs/{hub_id}/groups": _no_agent_named,
}


# Fields whose only valid values are secrets sent elsewhere: a document can say their
# shape, not which value is right, so valid-looking data may be refused naming them.
SECRETS = {"POST /api/v1/auth/password-reset": {"code"}}


def test_no_request_built_from_the_document_breaks_the_api_or_its_document(
    api, admin, fuzz_examples, fuzz_reports
):
    world = build_world(api, admin)
    # half the cases name things that exist, so they get past "not found"
    known_ids = {
        "hub_id": world.hub_id,
        "membership_id": world.pending_membership(),
        "training_id": world.training(),
        "product_id": world.product(),
        "order_id": world.order(),
        "group_id": world.group["id"],
        "agent_id": world.agent.agent_id,
    }
    names = FULL_CALLERS if fuzz_examples > 1 else SMOKE_CALLERS
    callers = {name: None if name == "anonymous" else world.clients[name] for name in names}

    report = Fuzzer(api, callers, known_ids, fuzz_examples, DESCRIBED_RULES, SECRETS).run()
    fuzz_reports.append(("openapi", report))

    assert report.operations, "the document lists no operation"
    assert not report.failures, report.describe_failures()
