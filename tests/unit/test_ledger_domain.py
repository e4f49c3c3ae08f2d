"""Ledger rules without a broker or a database: the split of a settled order, entries
joining their account, payouts and adjustments, statements, who may do what."""

import datetime
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.common.errors import Conflict, ValidationError
from services.common.periods import wib_day
from services.ledger import contract, domain
from services.ledger.exceptions import (
    AgentNotFound,
    InsufficientBalance,
    NotAllowed,
    NotAnAgent,
    NotASeller,
    SellerNotFound,
)
from services.ledger.schemas import RecordPayoutSchema
from tests.support.aggregates import events
from tests.support.ledger import (
    agent_order,
    expected_agent_share,
    expected_split,
    random_agent_order,
    random_order,
    settled_order,
)
from tests.support.orders import make_actor

HUB = "hub-1"
NOW = datetime.datetime(2026, 11, 27, 10, 0, tzinfo=datetime.UTC)
COORDINATOR = make_actor("coord-1", coordinator=[HUB])
SELLER = "seller-1"
AGENT = {"_id": "agent-1", "hub_id": HUB, "member_id": "member-9", "commission_percent": 4}
AGENT_HOLDER = {"agent_id": "agent-1", "member_id": "member-9"}


def booked(order):
    """``{kind: {holder: amount}}`` of the entries ``order`` makes."""
    entries = domain.settlement(order)
    found = {}
    for entry in entries:
        holder = entry["seller_id"] or entry["agent_id"] or "hub"
        found.setdefault(entry["kind"], {})[holder] = entry["amount"]
    return found


def written(*drafts, start=None):
    """The drafts appended one after another to one account, from ``start``."""
    entries, last = [], start
    for entry_draft in drafts:
        last = domain.appended(entry_draft, last, NOW)
        entries.append(last)
    return entries


def sale(amount, cause=None):
    return domain.draft(cause or f"sale:{amount}", HUB, SELLER, contract.SALE, amount)


def payout_fields(amount=50_000, **overrides):
    return {"seller_id": SELLER, "amount": amount, "method": "cash", "reference": None, **overrides}


# --- the split ---------------------------------------------------------------------


def test_an_order_of_105000_at_ten_percent_pays_the_seller_94500_and_the_hub_10500():
    order = settled_order(HUB, [(SELLER, 105_000)], commission_percent=10)
    assert booked(order) == {"sale": {SELLER: 94_500}, "commission": {"hub": 10_500}}


@pytest.mark.parametrize(
    ("amount", "percent", "commission"),
    [
        (105, 10, 11),  # 10.5 rounds up
        (104, 10, 10),  # 10.4 rounds down
        (10_010, 15, 1_502),  # 1501.5
        (10_003, 15, 1_500),  # 1500.45
        (99_999, 0, 0),
        (99_999, 50, 50_000),  # 49999.5
        (0, 25, 0),
    ],
)
def test_commission_is_rounded_half_up_to_whole_rupiah(amount, percent, commission):
    assert domain.commission_on(amount, percent) == commission


def test_the_readmes_two_sellers_at_fifteen_percent_add_up_to_the_total():
    order = settled_order(HUB, [("siti", 35_005), ("budi", 10_010)], commission_percent=15)
    assert booked(order) == {"sale": {"siti": 29_754, "budi": 8_508}, "commission": {"hub": 6_753}}
    assert 29_754 + 8_508 + 6_753 == order["total"] == 45_015


def test_each_seller_pays_commission_on_their_own_lines_together():
    # per seller, not per line: 3 × 5 → 15 % of 15 = 2.25 → 2 (per line it would be 3 × 1)
    order = settled_order(HUB, [("a", 5), ("a", 5), ("a", 5), ("b", 10)], commission_percent=15)
    assert booked(order) == {"sale": {"a": 13, "b": 8}, "commission": {"hub": 4}}


@given(seed=st.integers(min_value=0, max_value=2**32))
@settings(max_examples=500, deadline=None)
def test_the_sellers_entries_and_the_commission_always_make_the_order_total(seed):
    order = random_order(random.Random(seed), HUB, ["s1", "s2", "s3", "s4"])
    entries = domain.settlement(order)
    sales = {e["seller_id"]: e["amount"] for e in entries if e["kind"] == contract.SALE}
    (commission,) = [e["amount"] for e in entries if e["kind"] == contract.COMMISSION]
    assert sum(sales.values()) + commission == order["total"]
    assert (sales, commission) == expected_split(order)
    assert all(amount >= 0 for amount in sales.values())
    assert all(isinstance(e["amount"], int) for e in entries)


@pytest.mark.parametrize(
    "broken",
    [
        {"total": 1},
        {"commission_percent": 101},
        {"commission_percent": -1},
        {"commission_percent": 10.0},
        {"commission_percent": True},
        {"commission_percent": None},
    ],
)
def test_an_order_that_does_not_add_up_is_booked_nowhere(broken):
    order = {**settled_order(HUB, [(SELLER, 10_000)]), **broken}
    with pytest.raises(domain.UnbalancedOrder):
        domain.settlement(order)


def test_a_line_total_that_is_not_whole_rupiah_is_booked_nowhere():
    order = settled_order(HUB, [(SELLER, 10_000)])
    order["items"][0]["line_total"] = 10_000.0
    with pytest.raises(domain.UnbalancedOrder):
        domain.settlement(order)


def test_the_same_order_makes_the_same_entry_ids_so_a_repeat_writes_nothing_new():
    order = settled_order(HUB, [("a", 100), ("b", 200)])
    first = domain.settlement(order)
    again = domain.settlement(order)
    assert [e["_id"] for e in first] == [e["_id"] for e in again]
    assert len({e["_id"] for e in first}) == 3
    assert [e["cause"] for e in first] == [
        f"sale:{order['order_id']}:a",
        f"sale:{order['order_id']}:b",
        f"commission:{order['order_id']}",
    ]


# --- an agent's order (DESIGN §9) ----------------------------------------------------


def agents(order):
    return agent_order(HUB, order, AGENT["_id"], AGENT["member_id"], AGENT["commission_percent"])


def test_an_agents_share_comes_out_of_the_hubs_commission_never_the_sellers_sale():
    order = agents([(SELLER, 105_000)])
    assert booked(order) == {
        "sale": {SELLER: 94_500},
        "agent_commission": {"agent-1": 4_200},
        "commission": {"hub": 6_300},
    }


def test_the_agents_entry_is_on_their_own_account_named_by_their_member():
    entries = domain.settlement(agents([(SELLER, 10_000), ("seller-2", 5_005)]))
    (agent,) = [e for e in entries if e["kind"] == contract.AGENT_COMMISSION]
    assert agent["account"] == domain.agent_account(HUB, "agent-1") == "hub-1/agent:agent-1"
    assert (agent["seller_id"], agent["agent_id"], agent["member_id"]) == (
        None,
        "agent-1",
        "member-9",
    )
    assert agent["amount"] == 400 + 200  # 4 % of each seller's gross: 400, 200.2 → 200
    (hub,) = [e for e in entries if e["kind"] == contract.COMMISSION]
    assert (hub["amount"], hub["agent_commission"]) == (1_000 + 501 - 600, 600)


def test_an_agents_share_is_never_more_than_the_commission():
    order = agent_order(HUB, [(SELLER, 10_000)], "agent-1", "member-9", 50, commission_percent=10)
    assert booked(order)["agent_commission"] == {"agent-1": 1_000}
    assert booked(order)["commission"] == {"hub": 0}
    assert booked(order)["sale"] == {SELLER: 9_000}


def test_an_agents_order_is_booked_once_per_order_and_agent():
    order = agents([("a", 100), ("b", 200)])
    first, again = domain.settlement(order), domain.settlement(order)
    assert [e["_id"] for e in first] == [e["_id"] for e in again]
    assert [e["cause"] for e in first] == [
        f"sale:{order['order_id']}:a",
        f"sale:{order['order_id']}:b",
        f"agent_commission:{order['order_id']}:agent-1",
        f"commission:{order['order_id']}",
    ]


@given(seed=st.integers(min_value=0, max_value=2**32))
@settings(max_examples=500, deadline=None)
def test_an_agent_never_takes_from_a_seller_and_never_more_than_the_commission(seed):
    order = random_agent_order(random.Random(seed), HUB, ["s1", "s2", "s3", "s4"])
    entries = domain.settlement(order)
    sales = {e["seller_id"]: e["amount"] for e in entries if e["kind"] == contract.SALE}
    (agent,) = [e["amount"] for e in entries if e["kind"] == contract.AGENT_COMMISSION]
    (kept,) = [e["amount"] for e in entries if e["kind"] == contract.COMMISSION]
    without_agent = {**order, "agent_id": None, "agent_commission_percent": None}
    sellers, commission = expected_split(without_agent)
    assert sales == sellers
    assert agent == expected_agent_share(order)
    assert 0 <= agent <= commission and kept == commission - agent >= 0
    assert sum(sales.values()) + agent + kept == order["total"]


@pytest.mark.parametrize("percent", [None, -1, 101, 4.0, True])
def test_an_agents_order_with_a_share_that_is_not_a_percentage_is_booked_nowhere(percent):
    with pytest.raises(domain.UnbalancedOrder):
        domain.settlement({**agents([(SELLER, 10_000)]), "agent_commission_percent": percent})


def test_an_order_counts_on_its_day_in_wib():
    order = settled_order(HUB, [(SELLER, 100)], settled_at="2026-11-30T18:30:00.000Z")
    (_, commission) = domain.settlement(order)
    assert wib_day(commission["settled_at"]) == "2026-12-01"


def test_commission_by_hub_sums_the_days_of_the_period_from_each_hubs_tally():
    tallies = [
        {"_id": "hub-b", "days": {"2026-11-30": {"commission": 5, "settled_orders": 1}}},
        {
            "_id": "hub-a",
            "days": {
                "2026-11-01": {"commission": 100, "agent_commission": 12, "settled_orders": 2},
                "2026-11-30": {"commission": 50, "settled_orders": 1},
                "2026-12-01": {"commission": 7, "settled_orders": 1},
            },
        },
        {"_id": "hub-c"},
    ]
    assert domain.commission_by_hub(tallies, "2026-11-01", "2026-12-01") == [
        {"hub_id": "hub-a", "settled_orders": 3, "commission": 150, "agent_commission": 12},
        {"hub_id": "hub-b", "settled_orders": 1, "commission": 5, "agent_commission": 0},
    ]
    assert domain.commission_by_hub(tallies, "2026-12-01", None) == [
        {"hub_id": "hub-a", "settled_orders": 1, "commission": 7, "agent_commission": 0}
    ]


# --- entries in their account -------------------------------------------------------


def test_entries_take_the_next_seq_and_carry_the_balance_after_them():
    entries = written(sale(1_000), sale(500), domain.draft("x", HUB, SELLER, "payout", -700))
    assert [(e["seq"], e["balance_after"]) for e in entries] == [(1, 1_000), (2, 1_500), (3, 800)]


def test_a_payout_above_the_balance_is_refused_naming_the_amount():
    (first,) = written(sale(1_000))
    with pytest.raises(InsufficientBalance) as refused:
        domain.appended(domain.draft("p", HUB, SELLER, contract.PAYOUT, -1_001), first, NOW)
    assert "1000" in refused.value.details["amount"][0]


def test_the_whole_balance_may_be_paid_out():
    (first,) = written(sale(1_000))
    paid = domain.appended(domain.draft("p", HUB, SELLER, contract.PAYOUT, -1_000), first, NOW)
    assert paid["balance_after"] == 0


def test_an_entry_is_never_dated_before_the_one_before_it():
    (first,) = written(sale(1_000))
    earlier = NOW - datetime.timedelta(seconds=5)
    assert domain.appended(sale(5, "later"), first, earlier)["at"] == NOW


def test_a_payout_entry_announces_the_amount_paid_and_the_balance_left():
    (first,) = written(sale(80_000))
    asked = domain.payout(COORDINATOR, HUB, payout_fields(reference="TRF-1"), "key-1", True)
    paid = domain.appended(asked, first, NOW)
    assert events(paid) == [
        (
            "payout_recorded",
            {
                "payout_id": paid["_id"],
                "hub_id": HUB,
                "seller_id": SELLER,
                "agent_id": None,
                "member_id": SELLER,
                "amount": 50_000,
                "method": "cash",
                "reference": "TRF-1",
                "balance_after": 30_000,
                "recorded_by": "coord-1",
            },
        )
    ]


def test_an_adjustment_entry_announces_the_correction_and_its_reason():
    (first,) = written(sale(10_000))
    fields = {"seller_id": SELLER, "amount": -2_500, "reason": "Salah hitung"}
    corrected = domain.appended(domain.adjustment(COORDINATOR, HUB, fields, "k", True), first)
    ((name, data),) = events(corrected)
    assert name == "adjustment_recorded"
    assert (data["amount"], data["reason"], data["balance_after"]) == (
        -2_500,
        "Salah hitung",
        7_500,
    )


def test_sales_announce_nothing():
    (entry,) = written(sale(1_000))
    assert events(entry) == []


# --- payouts and adjustments ----------------------------------------------------------


def test_a_payout_is_unique_per_coordinator_and_key():
    one = domain.payout(COORDINATOR, HUB, payout_fields(), "key-1", True)
    same = domain.payout(COORDINATOR, HUB, payout_fields(), "key-1", True)
    other = make_actor("coord-2", coordinator=[HUB])
    assert one["_id"] == same["_id"]
    assert domain.payout(other, HUB, payout_fields(), "key-1", True)["_id"] != one["_id"]
    assert domain.payout(COORDINATOR, HUB, payout_fields(), "key-2", True)["_id"] != one["_id"]


@pytest.mark.parametrize(
    "actor",
    [
        make_actor(SELLER, seller=[HUB]),
        make_actor("buyer-1", buyer=[HUB]),
        make_actor("coord-2", coordinator=["hub-2"]),
    ],
)
def test_only_the_hubs_coordinator_records_payouts(actor):
    with pytest.raises(NotAllowed):
        domain.payout(actor, HUB, payout_fields(), "key", True)


def test_an_admin_records_payouts_in_any_hub():
    admin = make_actor("admin-1", is_admin=True)
    assert domain.payout(admin, HUB, payout_fields(), "key", True)["amount"] == -50_000


def test_nobody_pays_themselves():
    coordinator_and_seller = make_actor(SELLER, coordinator=[HUB], seller=[HUB])
    with pytest.raises(NotAllowed) as refused:
        domain.payout(coordinator_and_seller, HUB, payout_fields(), "key", True)
    assert "seller_id" in refused.value.details


def test_a_payout_to_a_member_who_never_sold_here_is_refused_naming_them():
    with pytest.raises(NotASeller) as refused:
        domain.payout(COORDINATOR, HUB, payout_fields(), "key", None)
    assert SELLER in refused.value.details["seller_id"][0]


def test_a_suspended_seller_is_still_paid_what_they_are_owed():
    assert domain.payout(COORDINATOR, HUB, payout_fields(), "key", False)["kind"] == "payout"


def test_the_same_key_for_another_payout_is_a_conflict_naming_the_key():
    first = domain.payout(COORDINATOR, HUB, payout_fields(50_000), "key", True)
    other = domain.payout(COORDINATOR, HUB, payout_fields(60_000), "key", True)
    assert domain.check_same_request(first, first) is first
    with pytest.raises(Conflict) as refused:
        domain.check_same_request(first, other)
    assert "Idempotency-Key" in refused.value.details


def agent_payout(amount=50_000, **overrides):
    return payout_fields(amount, seller_id=None, agent_id=AGENT["_id"], **overrides)


def test_a_payout_to_an_agent_is_on_their_account_and_announced_to_their_member():
    (first,) = written(
        domain.draft("share", HUB, None, contract.AGENT_COMMISSION, 80_000, agent=AGENT_HOLDER)
    )
    asked = domain.payout(COORDINATOR, HUB, agent_payout(), "key-1", None, AGENT)
    assert asked["account"] == first["account"] == domain.agent_account(HUB, "agent-1")
    paid = domain.appended(asked, first, NOW)
    ((name, data),) = events(paid)
    assert name == "payout_recorded"
    assert (data["seller_id"], data["agent_id"], data["member_id"]) == (
        None,
        "agent-1",
        "member-9",
    )
    assert (data["amount"], data["balance_after"]) == (50_000, 30_000)


@pytest.mark.parametrize("agent", [None, {**AGENT, "hub_id": "hub-2"}])
def test_a_payout_to_an_agent_the_hub_does_not_have_is_refused_naming_them(agent):
    with pytest.raises(NotAnAgent) as refused:
        domain.payout(COORDINATOR, HUB, agent_payout(), "key", None, agent)
    assert "agent-1" in refused.value.details["agent_id"][0]


def test_a_coordinator_who_is_the_agent_does_not_pay_themselves():
    themselves = make_actor(AGENT["member_id"], coordinator=[HUB])
    with pytest.raises(NotAllowed) as refused:
        domain.payout(themselves, HUB, agent_payout(), "key", None, AGENT)
    assert "agent_id" in refused.value.details


def test_a_payout_to_an_agent_and_one_to_a_seller_under_one_key_are_told_apart():
    to_agent = domain.payout(COORDINATOR, HUB, agent_payout(), "key", None, AGENT)
    to_seller = domain.payout(COORDINATOR, HUB, payout_fields(), "key", True)
    with pytest.raises(Conflict):
        domain.check_same_request(to_agent, to_seller)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount": 1, "method": "cash"}, "seller_id"),
        ({"seller_id": "s", "agent_id": "a", "amount": 1, "method": "cash"}, "agent_id"),
        ({"seller_id": None, "agent_id": None, "amount": 1, "method": "cash"}, "seller_id"),
    ],
)
def test_a_payout_names_exactly_one_of_seller_and_agent(body, field):
    with pytest.raises(ValidationError) as refused:
        RecordPayoutSchema().load_or_raise(body)
    assert field in refused.value.details


# --- statements ------------------------------------------------------------------


def test_a_statement_closes_at_its_last_entrys_balance():
    entries = written(sale(1_000), sale(500), start=None)
    found = domain.statement(HUB, SELLER, (None, None), 0, entries[1:])
    assert (found["opening_balance"], found["closing_balance"]) == (0, 1_500)
    assert domain.statement(HUB, SELLER, (NOW, None), 700, [])["closing_balance"] == 700


def test_a_statement_is_for_the_seller_and_the_hubs_coordinator():
    domain.check_can_read_statement(make_actor(SELLER), HUB, SELLER)
    domain.check_can_read_statement(COORDINATOR, HUB, SELLER)
    domain.check_can_read_statement(make_actor("a", is_admin=True), HUB, SELLER)
    for other in (make_actor("seller-2", seller=[HUB]), make_actor("c", coordinator=["hub-2"])):
        with pytest.raises(NotAllowed):
            domain.check_can_read_statement(other, HUB, SELLER)


def test_an_agents_statement_is_for_the_agent_and_the_hubs_coordinator():
    domain.check_can_read_agent_statement(make_actor("member-9"), HUB, AGENT)
    domain.check_can_read_agent_statement(COORDINATOR, HUB, AGENT)
    domain.check_can_read_agent_statement(make_actor("a", is_admin=True), HUB, AGENT)
    for other in (make_actor(SELLER, seller=[HUB]), make_actor("c", coordinator=["hub-2"])):
        with pytest.raises(NotAllowed):
            domain.check_can_read_agent_statement(other, HUB, AGENT)


@pytest.mark.parametrize("agent", [None, {**AGENT, "hub_id": "hub-2"}])
def test_a_statement_of_an_agent_the_hub_does_not_have_does_not_exist(agent):
    with pytest.raises(AgentNotFound) as refused:
        domain.check_known_agent(agent, HUB, "agent-1")
    assert "agent-1" in refused.value.details["agent_id"][0]


def test_an_agents_statement_names_the_agent_and_their_member():
    found = domain.agent_statement(HUB, AGENT, (None, None), 0, [])
    assert (found["agent_id"], found["member_id"], found["closing_balance"]) == (
        "agent-1",
        "member-9",
        0,
    )


def test_a_statement_of_someone_who_never_sold_here_does_not_exist():
    with pytest.raises(SellerNotFound) as refused:
        domain.check_known_seller(SELLER, known=False)
    assert SELLER in refused.value.details["seller_id"][0]
    domain.check_known_seller(SELLER, known=True)


# --- the network report --------------------------------------------------------------


def test_the_network_report_is_for_admins():
    domain.check_can_see_network(make_actor("a", is_admin=True))
    with pytest.raises(NotAllowed):
        domain.check_can_see_network(COORDINATOR)
