"""The embedded store's TTL indexes (``services.common.embedded``): documents expire as
MongoDB's do, and between expiries a read does not decode the whole collection."""

import datetime
import uuid

import pytest
from litemongo.sqlite_store import TableDict
from pymongo import ASCENDING, IndexModel

from services.common.envelope import utcnow
from services.common.mongo import mongo_client
from tests.support.waiting import wait_until

KEPT = datetime.timedelta(days=7)


@pytest.fixture(params=["embedded", "memory"])
def inbox(request, tmp_path):
    config = {"KOMPOR_DATA_DIR": str(tmp_path)}
    if request.param == "memory":
        config["MONGO_URI"] = f"memory://{uuid.uuid4().hex}"
    collection = mongo_client(config)["kompor_test"]["inbox"]
    collection.create_indexes(
        [IndexModel([("handled_at", ASCENDING)], expireAfterSeconds=int(KEPT.total_seconds()))]
    )
    return collection


def test_a_document_written_past_its_time_is_gone_at_the_next_read(inbox):
    inbox.insert_one({"_id": "fresh", "handled_at": utcnow()})
    assert inbox.find_one({"_id": "fresh"}) is not None  # the store has looked just now
    inbox.insert_one({"_id": "old", "handled_at": utcnow() - KEPT - datetime.timedelta(days=1)})
    assert inbox.find_one({"_id": "old"}) is None
    assert inbox.find_one({"_id": "fresh"}) is not None


def test_a_document_expires_once_its_time_comes(inbox):
    inbox.insert_one({"_id": "now", "handled_at": utcnow()})
    assert inbox.find_one({"_id": "now"}) is not None
    almost = utcnow() - KEPT + datetime.timedelta(seconds=1)
    inbox.insert_one({"_id": "almost", "handled_at": almost})
    assert inbox.find_one({"_id": "almost"}) is not None
    wait_until(lambda: inbox.find_one({"_id": "almost"}) is None, timeout=5, message="expired")
    assert inbox.find_one({"_id": "now"}) is not None


def test_between_expiries_a_read_decodes_what_it_reads_not_the_whole_collection(
    tmp_path, monkeypatch
):
    inbox = mongo_client({"KOMPOR_DATA_DIR": str(tmp_path)})["kompor_test"]["inbox"]
    inbox.create_indexes(
        [IndexModel([("handled_at", ASCENDING)], expireAfterSeconds=int(KEPT.total_seconds()))]
    )
    inbox.insert_many([{"_id": f"handler:{n}", "handled_at": utcnow()} for n in range(300)])
    inbox.find_one({"_id": "handler:0"})  # the first read after the writes may look at all
    decoded = []
    decode = TableDict._decode_doc
    monkeypatch.setattr(
        TableDict, "_decode_doc", lambda table, raw: decoded.append(1) or decode(table, raw)
    )
    for n in range(100):
        assert inbox.find_one({"_id": f"handler:{n}"}) is not None
        inbox.insert_one({"_id": f"handler:new-{n}", "handled_at": utcnow()})
    assert len(decoded) < 1000  # a pass over all 300 on each access would be 60,000
