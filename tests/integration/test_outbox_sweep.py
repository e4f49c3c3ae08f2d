"""The outbox relay (docs/architecture.md §5).

A write with events claims its outbox in the same write; the relay publishes them at
once as one batch over its long-lived confirm channel and clears them in one more
write. A batch the broker did not confirm stays for the sweep, which finds waiting
events through the ``outbox_pending`` flag (an index lookup), not by reading every
document; a periodic full sweep still finds events written without the flag.
"""

import sys
import time

import pytest
from kombu import Connection
from nameko.testing.utils import get_extension
from pymongo import ASCENDING, IndexModel

from services.common.envelope import OUTBOX_PENDING, make_event, new_id, record
from services.common.events import subscribe
from services.common.storage import Repository, Storage, with_events
from tests.support.events import EventLog
from tests.support.waiting import wait_until


class LedgerRepository(Repository):
    aggregates = ("entries",)
    indexes = {"entries": [IndexModel([("outbox.event_id", ASCENDING)], sparse=True)]}


class LedgerService:
    name = "ledger"

    store = Storage(LedgerRepository)


class KeeperService:
    """Handles each ledger event it is given: its inbox skips repeats."""

    name = "keeper"
    handled = []

    @subscribe("ledger", "entry_made")
    def handle_entry_made(self, event):
        KeeperService.handled.append(event["event_id"])


@pytest.fixture
def ledger(container_factory, config):
    """``(relay, repository without a relay, collection)``; the sweep timer is left
    to the test."""
    container = container_factory(LedgerService, {**config, "KOMPOR_OUTBOX_SWEEP_SECONDS": 3600})
    container.start()
    storage = get_extension(container, Storage)
    return storage.relay, LedgerRepository(storage.db), storage.db.entries


@pytest.fixture
def relayed(ledger):
    """A repository whose writes are relayed at once, as a worker's are."""
    relay, repository, _ = ledger
    return LedgerRepository(repository.db, relay)


@pytest.fixture
def updates(ledger, monkeypatch):
    """Each ``update_one`` the store is asked for on the ledger's entries."""
    _, _, entries = ledger
    seen = []
    update_one = type(entries).update_one

    def counted(collection, *args, **kwargs):
        if collection.name == entries.name:
            seen.append(args[0])
        return update_one(collection, *args, **kwargs)

    monkeypatch.setattr(type(entries), "update_one", counted)
    return seen


RELAY_SOURCE = "services/common/events.py"


def confirms_lost(monkeypatch, times):
    """The connection fails while the relay waits for the broker's confirms, ``times``
    times; the messages were sent (the broker has them) but never confirmed."""
    drain_events = Connection.drain_events
    failures = []

    def drop(connection, *args, **kwargs):
        # only the relay's wait for confirms: a subscriber's connection stays up
        relay_waits = sys._getframe(1).f_code.co_filename.endswith(RELAY_SOURCE)
        if relay_waits and len(failures) < times:
            failures.append(connection)
            raise ConnectionResetError(104, "Connection reset by peer")
        return drain_events(connection, *args, **kwargs)

    monkeypatch.setattr(Connection, "drain_events", drop)
    return failures


def entry_with_events(*event_types):
    entry = {"_id": new_id(), "name": "kas"}
    for event_type in event_types:
        record(entry, event_type, {"entry_id": entry["_id"], "event": event_type})
    return entry


def published(log, count):
    return wait_until(lambda: len(log.events) >= count and log.events, message=f"{count} events")


def published_events(log, count):
    """The first ``count`` events published, once that many arrived."""
    return published(log, count)[:count]


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


def test_a_batch_of_events_is_published_in_order_and_cleared_in_one_write(
    relayed, ledger, config, updates
):
    _, _, entries = ledger
    entry = relayed.insert("entries", {"_id": new_id(), "name": "kas"})
    for event_type in ("entry_renamed", "entry_checked", "entry_closed"):
        record(entry, event_type, {"entry_id": entry["_id"]})
    with EventLog(config, "ledger") as log:
        updates.clear()
        relayed.save("entries", {**entry, "name": "kas desa"})
        saved = entries.find_one({"_id": entry["_id"]})
        assert saved["outbox"] == [] and saved[OUTBOX_PENDING] is False
        assert saved["outbox_lease"] is None
        published = published_events(log, 3)
    assert [e["type"] for e in published] == ["entry_renamed", "entry_checked", "entry_closed"]
    assert len(updates) == 2  # the save, which claimed the outbox, and the one clearing it


def test_a_write_that_carries_no_event_is_written_once(relayed, updates):
    entry = relayed.insert("entries", {"_id": new_id(), "name": "kas"})
    updates.clear()
    relayed.save("entries", {**entry, "name": "kas desa"})
    assert len(updates) == 1


def test_confirms_lost_mid_batch_send_it_again_and_each_event_is_handled_once(
    relayed, ledger, config, container_factory, monkeypatch
):
    _, _, entries = ledger
    KeeperService.handled = []
    container_factory(KeeperService, config).start()
    relayed.insert("entries", entry_with_events("entry_made"))  # the relay's connection is open
    wait_until(lambda: len(KeeperService.handled) == 1, message="the first event handled")

    failures = confirms_lost(monkeypatch, times=1)
    with EventLog(config, "ledger") as log:
        entry = relayed.insert("entries", entry_with_events(*["entry_made"] * 3))
        assert failures, "the connection did not fail"
        assert entries.find_one({"_id": entry["_id"]})["outbox"] == []
        # sent again on a fresh connection; the unconfirmed copies may or may not have
        # reached the broker before the old connection went (as with a real reset)
        ids = {event["event_id"] for event in published_events(log, 3)}
    assert len(ids) == 3
    wait_until(lambda: len(KeeperService.handled) >= 4, message="the batch handled")
    time.sleep(1)  # any copy still arriving is skipped, not handled again
    assert sorted(KeeperService.handled[1:]) == sorted(ids)


def test_a_batch_no_broker_confirms_stays_in_the_outbox_for_the_sweep(
    relayed, ledger, config, monkeypatch
):
    relay, _, entries = ledger
    confirms_lost(monkeypatch, times=2)  # the connection, and a fresh one after it
    entry = relayed.insert("entries", entry_with_events("entry_made", "entry_renamed"))
    waiting = entries.find_one({"_id": entry["_id"]})
    assert [e["type"] for e in waiting["outbox"]] == ["entry_made", "entry_renamed"]
    assert waiting[OUTBOX_PENDING] is True and waiting["outbox_lease"] is None

    with EventLog(config, "ledger") as log:
        assert relay.sweep() == 2
        assert [e["type"] for e in published_events(log, 2)] == ["entry_made", "entry_renamed"]
    assert entries.find_one({"_id": entry["_id"]})["outbox"] == []


def test_after_the_broker_closed_the_relays_connection_the_next_write_publishes_at_once(
    relayed, ledger, config, rabbit_manager
):
    _, _, entries = ledger
    relayed.insert("entries", entry_with_events("entry_made"))

    def connections():
        listed = rabbit_manager.get_connections()
        return {c["name"] for c in listed if c["vhost"] == config["vhost"]}

    (closed,) = wait_until(connections, message="the relay's connection listed")
    rabbit_manager.delete_connection(closed)  # as a broker restart does

    with EventLog(config, "ledger") as log:
        entry = relayed.insert("entries", entry_with_events("entry_made"))
        assert entries.find_one({"_id": entry["_id"]})["outbox"] == []
        assert published_events(log, 1)[0]["data"]["entry_id"] == entry["_id"]
    wait_until(lambda: connections() - {closed}, message="the relay on a new connection")


def test_events_written_behind_others_still_waiting_go_out_after_them_with_the_sweep(
    relayed, ledger, config
):
    relay, _, entries = ledger
    entry = relayed.insert("entries", {"_id": new_id(), "name": "kas"})
    left = make_event("entry_made", {"entry_id": entry["_id"]})  # as after a broker outage
    entries.update_one({"_id": entry["_id"]}, with_events({}, [left]))
    record(entry, "entry_renamed", {"entry_id": entry["_id"]})
    with EventLog(config, "ledger") as log:
        relayed.save("entries", {**entry, "name": "kas desa"})
        waiting = entries.find_one({"_id": entry["_id"]})["outbox"]
        assert [e["type"] for e in waiting] == ["entry_made", "entry_renamed"]
        assert relay.sweep() == 2
        assert [e["type"] for e in published_events(log, 2)] == ["entry_made", "entry_renamed"]
