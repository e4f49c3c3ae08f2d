"""The ledger's repository on the in-process store: two writers of one account that
read the same balance collide on (account, seq) and the loser reads again, so a
balance is never spent twice; each cause is written once; a hub's day counts an order
once."""

import datetime
import uuid

import pytest

from services.common.envelope import utcnow
from services.common.mongo import database_name, mongo_client
from services.ledger import contract, domain
from services.ledger.exceptions import InsufficientBalance
from services.ledger.repository import LedgerRepository
from tests.support.ledger import agent_order, settled_order
from tests.support.orders import make_actor

HUB, SELLER = "hub-1", "seller-1"
COORDINATOR = make_actor("coord-1", coordinator=[HUB])
ADMIN = make_actor("admin-1", is_admin=True)
ACCOUNT = domain.account_of(HUB, SELLER)


@pytest.fixture
def db():
    db = mongo_client({"MONGO_URI": f"memory://{uuid.uuid4().hex}"})[database_name("ledger")]
    for collection, models in LedgerRepository.indexes.items():
        if models:
            db[collection].create_indexes(models)
    return db


class Racing(LedgerRepository):
    """Writes ``rival`` (as another worker would) right after this repository read the
    account's last entry and before it writes after it: the moment two coordinators
    paying at once share."""

    def __init__(self, db, rival):
        super().__init__(db)
        self.rival = rival

    def last_entry(self, account):
        last = super().last_entry(account)
        if self.rival is not None:
            rival, self.rival = self.rival, None
            LedgerRepository(self.db).append(rival)
        return last


def earned(db, amount):
    return LedgerRepository(db).append(
        domain.draft(f"sale:{uuid.uuid4()}", HUB, SELLER, contract.SALE, amount)
    )


def payout(actor, amount, key=None):
    fields = {"seller_id": SELLER, "amount": amount, "method": "cash", "reference": None}
    return domain.payout(actor, HUB, fields, key or uuid.uuid4().hex, True)


def balance(db):
    return LedgerRepository(db).last_entry(ACCOUNT)["balance_after"]


def test_two_payouts_that_read_the_same_balance_cannot_both_be_paid(db):
    earned(db, 100_000)
    racing = Racing(db, rival=payout(ADMIN, 60_000))
    with pytest.raises(InsufficientBalance):
        racing.append(payout(COORDINATOR, 60_000))
    assert balance(db) == 40_000
    assert db.entries.count_documents({"kind": "payout"}) == 1


def test_a_payout_that_lost_the_race_is_written_after_the_winner_when_both_fit(db):
    earned(db, 100_000)
    written = Racing(db, rival=payout(ADMIN, 30_000)).append(payout(COORDINATOR, 50_000))
    assert (written["seq"], written["balance_after"]) == (3, 20_000)
    assert [e["balance_after"] for e in db.entries.find().sort("seq", 1)] == [
        100_000,
        70_000,
        20_000,
    ]


def test_a_cause_written_by_a_rival_meanwhile_is_not_written_again(db):
    earned(db, 100_000)
    asked = payout(COORDINATOR, 10_000, key="k")
    written = Racing(db, rival=dict(asked)).append(asked)
    assert written["balance_after"] == 90_000
    assert db.entries.count_documents({"kind": "payout"}) == 1


def test_a_payout_repeated_after_the_balance_is_spent_finds_the_first(db):
    earned(db, 10_000)
    repository = LedgerRepository(db)
    first = repository.append(payout(COORDINATOR, 10_000, key="k"))
    assert repository.append(payout(COORDINATOR, 10_000, key="k"))["_id"] == first["_id"]


def test_a_payout_carries_its_event_in_the_same_write(db):
    earned(db, 10_000)
    paid = LedgerRepository(db).append(payout(COORDINATOR, 4_000))
    (stored,) = db.entries.find_one({"_id": paid["_id"]})["outbox"]
    assert stored["type"] == "payout_recorded"
    assert stored["data"]["balance_after"] == 6_000


def settle(repository, order):
    for entry in domain.settlement(order):
        repository.append(entry)


def test_a_hubs_commission_is_counted_into_its_days_once_however_often_it_is_tallied(db):
    repository = LedgerRepository(db)
    settle(repository, settled_order(HUB, [(SELLER, 100_000)], settled_at="2026-11-30T18:00:00Z"))
    settle(repository, settled_order(HUB, [(SELLER, 50_000)], settled_at="2026-12-01T09:00:00Z"))
    for _ in range(3):
        repository.tally(HUB)
    assert domain.commission_by_hub(repository.tallies(), "2026-12-01", "2026-12-02") == [
        {"hub_id": HUB, "settled_orders": 2, "commission": 15_000, "agent_commission": 0}
    ]


def test_a_tally_left_behind_by_a_crash_catches_up_with_the_next_order(db):
    repository = LedgerRepository(db)
    settle(repository, settled_order(HUB, [(SELLER, 10_000)]))  # killed before its tally
    settle(repository, settled_order(HUB, [(SELLER, 20_000)]))
    repository.tally(HUB)
    ((_, counts),) = repository.tallies()[0]["days"].items()
    assert counts == {"commission": 3_000, "agent_commission": 0, "settled_orders": 2}


def test_a_hubs_day_counts_what_it_kept_and_its_agents_share_once_each(db):
    repository = LedgerRepository(db)
    by_agent = agent_order(HUB, [(SELLER, 100_000)], "agent-1", "member-9", 4)
    settle(repository, by_agent)
    settle(repository, settled_order(HUB, [(SELLER, 50_000)]))
    settle(repository, by_agent)  # redelivered
    for _ in range(2):
        repository.tally(HUB)
    ((_, counts),) = repository.tallies()[0]["days"].items()
    assert counts == {"commission": 6_000 + 5_000, "agent_commission": 4_000, "settled_orders": 2}


def test_an_account_whose_head_was_left_behind_by_a_crash_continues_after_its_last_entry(db):
    earned(db, 10_000)
    earned(db, 5_000)
    db.accounts.update_one({"_id": ACCOUNT}, {"$set": {"seq": 1}})  # as if killed in between
    written = LedgerRepository(db).append(payout(COORDINATOR, 15_000))
    assert (written["seq"], written["balance_after"]) == (3, 0)
    assert db.accounts.find_one({"_id": ACCOUNT})["seq"] == 3


def test_earnings_are_each_hubs_last_balance(db):
    earned(db, 10_000)
    LedgerRepository(db).append(domain.draft("sale:elsewhere", "hub-0", SELLER, contract.SALE, 700))
    balances, total = LedgerRepository(db).balances_of(SELLER, page=1, page_size=10)
    assert total == 2
    assert [(e["hub_id"], e["balance_after"]) for e in balances] == [("hub-0", 700), (HUB, 10_000)]


def test_earnings_include_what_the_hub_owes_a_member_as_its_agent(db):
    earned(db, 10_000)
    holder = {"agent_id": "agent-1", "member_id": SELLER}
    share = domain.draft("share", HUB, None, contract.AGENT_COMMISSION, 400, agent=holder)
    LedgerRepository(db).append(share)
    settle(LedgerRepository(db), agent_order(HUB, [("other", 1_000)], "agent-2", "other-9", 4))
    balances, total = LedgerRepository(db).balances_of(SELLER, page=1, page_size=10)
    assert total == 2
    assert [(e["hub_id"], e["agent_id"], e["balance_after"]) for e in balances] == [
        (HUB, "agent-1", 400),
        (HUB, None, 10_000),
    ]


def test_a_statement_opens_at_the_balance_before_its_first_entry(db):
    repository = LedgerRepository(db)
    earned(db, 10_000)
    an_hour_ago = utcnow() - datetime.timedelta(hours=1)
    db.entries.update_one({"seq": 1}, {"$set": {"at": an_hour_ago}})
    earned(db, 2_500)
    half_an_hour_ago = an_hour_ago + datetime.timedelta(minutes=30)
    opening, entries = repository.stretch(ACCOUNT, half_an_hour_ago, None)
    assert (opening, [e["seq"] for e in entries]) == (10_000, [2])
    assert repository.stretch(ACCOUNT, half_an_hour_ago, half_an_hour_ago) == (10_000, [])
    assert repository.stretch(ACCOUNT, None, half_an_hour_ago)[1][0]["balance_after"] == 10_000
