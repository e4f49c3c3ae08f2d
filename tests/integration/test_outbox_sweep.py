"""The relay's sweep finds waiting events through the ``outbox_pending`` flag (an index
lookup), not by reading every document; a periodic full sweep still finds events
written without the flag."""

import pytest
from nameko.testing.utils import get_extension
from pymongo import ASCENDING, IndexModel

from services.common.envelope import OUTBOX_PENDING, make_event, new_id, record
from services.common.storage import Repository, Storage, with_events
from tests.support.events import EventLog
from tests.support.waiting import wait_until


class LedgerRepository(Repository):
    aggregates = ("entries",)
    indexes = {"entries": [IndexModel([("outbox.event_id", ASCENDING)], sparse=True)]}


class LedgerService:
    name = "ledger"

    store = Storage(LedgerRepository)


@pytest.fixture
def ledger(container_factory, config):
    """``(relay, repository without a relay, collection)``; the sweep timer is left
    to the test."""
    container = container_factory(LedgerService, {**config, "KOMPOR_OUTBOX_SWEEP_SECONDS": 3600})
    container.start()
    storage = get_extension(container, Storage)
    return storage.relay, LedgerRepository(storage.db), storage.db.entries


def published(log, count):
    return wait_until(lambda: len(log.events) >= count and log.events, message=f"{count} events")


def entry_with(event_type):
    entry = {"_id": new_id(), "name": "kas"}
    record(entry, event_type, {"entry_id": entry["_id"]})
    return entry


def test_the_sweep_finds_flagged_events_and_a_full_sweep_also_unflagged_ones(ledger, config):
    relay, repository, entries = ledger
    flagged = repository.insert("entries", entry_with("entry_made"))
    assert entries.find_one({"_id": flagged["_id"]})[OUTBOX_PENDING] is True
    old = make_event("entry_made", {"entry_id": "old"})
    entries.insert_one({"_id": "old", "version": 1, "outbox": [old]})  # as an older version

    with EventLog(config, "ledger") as log:
        assert relay.sweep() == 1
        assert [e["data"]["entry_id"] for e in published(log, 1)] == [flagged["_id"]]
        assert relay.sweep(everything=True) == 1
        assert published(log, 2)[1]["event_id"] == old["event_id"]
    swept = entries.find_one({"_id": flagged["_id"]})
    assert swept["outbox"] == [] and swept[OUTBOX_PENDING] is False
    assert entries.find_one({"_id": "old"})["outbox"] == []


def test_a_save_with_events_raises_the_flag_and_the_relay_lowers_it_once_all_are_out(ledger):
    relay, repository, entries = ledger
    entry = repository.insert("entries", {"_id": new_id(), "name": "kas"})
    assert entries.find_one({"_id": entry["_id"]})[OUTBOX_PENDING] is False
    record(entry, "entry_renamed", {"entry_id": entry["_id"]})
    repository.save("entries", {**entry, "name": "kas desa"})
    assert entries.find_one({"_id": entry["_id"]})[OUTBOX_PENDING] is True
    relay.relay("entries", entry["_id"])
    saved = entries.find_one({"_id": entry["_id"]})
    assert saved["outbox"] == [] and saved[OUTBOX_PENDING] is False


def test_an_event_written_while_the_relay_publishes_stays_flagged_for_the_sweep(
    ledger, config, monkeypatch
):
    relay, repository, entries = ledger
    entry = repository.insert("entries", entry_with("entry_made"))
    late = make_event("entry_renamed", {"entry_id": entry["_id"]})
    publish = relay.publisher.publish

    def publish_while_another_write_lands(*args, **kwargs):
        if entries.find_one({"_id": entry["_id"], "outbox.event_id": late["event_id"]}) is None:
            entries.update_one({"_id": entry["_id"]}, with_events({}, [late]))
        return publish(*args, **kwargs)

    monkeypatch.setattr(relay.publisher, "publish", publish_while_another_write_lands)
    with EventLog(config, "ledger") as log:
        relay.relay("entries", entry["_id"])
        waiting = entries.find_one({"_id": entry["_id"]})
        assert [e["event_id"] for e in waiting["outbox"]] == [late["event_id"]]
        assert waiting[OUTBOX_PENDING] is True
        assert relay.sweep() == 1
        assert published(log, 2)[1]["event_id"] == late["event_id"]
    assert entries.find_one({"_id": entry["_id"]})[OUTBOX_PENDING] is False
