"""The ledger's repository on the in-process store: two writers of one account that
read the same balance collide on (account, seq) and the loser reads again, so a
balance is never spent twice; each cause is written once; a hub's day counts an order
once."""

import uuid

import pytest

from services.common.mongo import database_name, mongo_client
from services.ledger import contract, domain
from services.ledger.exceptions import InsufficientBalance
from services.ledger.repository import LedgerRepository
from tests.support.ledger import settled_order
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


def test_a_hubs_day_counts_an_order_once(db):
    repository = LedgerRepository(db)
    order = settled_order(HUB, [(SELLER, 100_000)], settled_at="2026-11-30T18:00:00.000Z")
    _, tally = domain.settlement(order)
    for _ in range(3):
        repository.count_settled(tally)
    other = settled_order(HUB, [(SELLER, 50_000)], settled_at="2026-12-01T09:00:00.000Z")
    repository.count_settled(domain.settlement(other)[1])
    assert repository.commission_by_hub("2026-12-01", "2026-12-02") == [
        {"hub_id": HUB, "settled_orders": 2, "commission": 15_000}
    ]
    assert repository.commission_by_hub(None, "2026-12-01") == []
