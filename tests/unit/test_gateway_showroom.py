"""The gateway's copy of the showroom, without a broker: built from real catalogue
events and snapshot entries, it answers as catalogue does whatever order the events
come in, and a rebuild loses nothing heard meanwhile."""

import datetime
import itertools
import json
import random
import types

import pytest

from services.catalogue import domain, schemas
from services.catalogue.contract import CATEGORIES, SORTS
from services.catalogue.showroom import Shelf
from services.common.errors import ServiceUnavailable
from services.common.schemas import page_of
from services.gateway.showroom import Showroom, ShowroomCopy
from tests.support.aggregates import events
from tests.support.catalogue import coordinator_of, make_product, seller_of

T0 = datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC)
QUERY = schemas.ShowroomQuerySchema()
_clock = itertools.count()


def product(hub_id="hub-a", **fields):
    """A product as catalogue stores it, just submitted (its event taken off)."""
    now = T0 + datetime.timedelta(seconds=next(_clock))
    made = domain.new_product(seller_of(hub_id), make_product(hub_id, **fields), now=now)
    made["version"] = 1  # as the insert stores it
    events(made)
    return made


def seller(made):
    return {
        "member_id": made["seller_id"],
        "is_admin": False,
        "roles": {made["hub_id"]: ["seller"]},
    }


def saved(made, change, *args):
    """``change`` applied as a catalogue write would: the data of the event it records,
    and the product with its new version."""
    change(made, *args)
    [(_, data), *_] = events(made)
    made["version"] += 1
    return data


def approved(made):
    return saved(made, domain.approve, coordinator_of(made["hub_id"]))


def entry(made):
    """The product as ``showroom_snapshot`` gives it."""
    return schemas.ShowroomEntrySchema().dump(made)


def query(**params):
    return QUERY.load_or_raise(params)


def ids(page_json):
    return [item["id"] for item in json.loads(page_json)["items"]]


def test_an_approved_product_is_listed_and_shown_as_catalogue_answers_them():
    made = product(images=["https://img.kompordesa.id/1.jpg"])
    copy = Showroom()
    copy.product_changed(approved(made))
    summary = schemas.ProductSummarySchema().dump(made)
    assert json.loads(copy.page(query())) == page_of([summary], 1, 20, 1)
    assert json.loads(copy.detail(made["_id"])) == schemas.ProductSchema().dump(made)


def test_an_older_event_arriving_late_changes_nothing():
    made = product(price=10_000)
    first = approved(made)
    repriced = saved(made, domain.edit, seller(made), {"price": 12_000})
    copy = Showroom()
    copy.product_changed(repriced)
    copy.product_changed(first)
    assert json.loads(copy.detail(made["_id"]))["price"] == 12_000


def test_a_product_taken_off_show_is_not_brought_back_by_an_older_event():
    made = product()
    shown = approved(made)
    rejected = saved(made, domain.reject, coordinator_of("hub-a"), "Foto buram")
    copy = Showroom()
    copy.product_changed(rejected)
    copy.product_changed(shown)
    assert copy.detail(made["_id"]) is None and ids(copy.page(query())) == []
    again = approved(made)
    copy.product_changed(again)
    assert ids(copy.page(query())) == [made["_id"]]


def test_the_newest_stock_level_wins_whatever_order_it_comes_in():
    made = product(stock=10)
    shown = approved(made)
    copy = Showroom()
    level = {"product_id": made["_id"], "stock": 4, "stock_version": 3}
    copy.stock_moved({"levels": [level]})  # before the copy knows the product
    copy.product_changed(shown)  # stock 10 as read at version 0 of its stock
    assert json.loads(copy.detail(made["_id"]))["stock"] == 4
    copy.stock_moved({"levels": [{**level, "stock": 9, "stock_version": 2}]})
    assert json.loads(copy.detail(made["_id"]))["stock"] == 4


def test_a_seller_s_stock_change_moves_the_product_s_update_time():
    made = product(stock=10)
    copy = Showroom()
    copy.product_changed(approved(made))
    copy.stock_changed(saved(made, domain.restock, seller(made), 5))
    shown = json.loads(copy.detail(made["_id"]))
    assert shown["stock"] == 15 and shown == schemas.ProductSchema().dump(made)


def test_a_suspended_seller_s_product_leaves_and_comes_back():
    made = product()
    copy = Showroom()
    copy.product_changed(approved(made))
    copy.product_changed(saved(made, domain.set_seller_suspended, True))
    assert ids(copy.page(query())) == []
    copy.product_changed(saved(made, domain.set_seller_suspended, False))
    assert ids(copy.page(query())) == [made["_id"]]


def assortment(count, rng):
    hubs = ["hub-a", "hub-b", "hub-c"]
    words = ["Keripik Tempe", "Kopi Dampit", "Batik Tulis", "Apel Batu", "Sambal 100%.*"]
    made = []
    for n in range(count):
        hub_id = rng.choice(hubs)
        fields = {
            "name": f"{rng.choice(words)} {n}",
            "description": rng.choice(["", "Organik dari lereng Semeru", "tanpa pengawet"]),
            "category": rng.choice(CATEGORIES[:4]),
            "price": rng.choice([5_000, 9_000, 15_000, 15_000, 45_000]),
        }
        made.append(product(hub_id, **fields))
    return made


QUERIES = [
    {},
    {"hub_id": "hub-b"},
    {"hub_id": "hub-a", "category": "food"},
    {"min_price": 9_000, "max_price": 15_000},
    {"max_price": 9_000},
    {"q": "KOPI"},
    {"q": "semeru", "hub_id": "hub-c"},
    {"q": ".*"},
    {"hub_id": "nowhere"},
]


def test_every_query_lists_as_the_catalogue_shelf_whatever_order_the_events_came_in():
    rng = random.Random(11)
    made = assortment(120, rng)
    changes = [approved(each) for each in made]
    changes += [
        saved(each, domain.reject, coordinator_of(each["hub_id"]), "x") for each in made[::7]
    ]
    changes += [saved(each, domain.edit, seller(each), {"price": 7_000}) for each in made[1::5]]
    rng.shuffle(changes)
    copy = Showroom()
    for data in changes:
        copy.product_changed(data)
    rebuilt = Showroom.of(entry(each) for each in made if domain.on_show(each))
    shelf = Shelf([each for each in made if domain.on_show(each)], version=1, built_at=0)
    for params, sort, page in itertools.product(QUERIES, SORTS, (1, 2)):
        asked = query(**params, sort=sort, page=page, page_size=15)
        items, total = shelf.search(params, page, 15, sort)
        expected = [item["_id"] for item in items]
        for answer in (copy.page(asked), rebuilt.page(asked)):
            assert ids(answer) == expected, (params, sort, page)
            assert json.loads(answer)["total"] == total


class FakeCatalogue:
    """``showroom_snapshot`` in pages of two; ``during`` runs while a page is asked."""

    def __init__(self, entries, during=lambda: None):
        self.entries = sorted(entries, key=lambda each: each["id"])
        self.during = during
        self.down = False

    def showroom_snapshot(self, page):
        if self.down:
            raise ServiceUnavailable("The catalogue service is not answering.")
        self.during()
        after = page["after"]
        rest = [each for each in self.entries if after is None or each["id"] > after]
        return {"items": rest[:2], "next": rest[1]["id"] if len(rest) > 2 else None}


@pytest.fixture
def copy():
    provider = ShowroomCopy()
    provider.container = types.SimpleNamespace(config={})
    provider.setup()
    provider.queue_consumer = types.SimpleNamespace(connections=0)
    return provider


def test_the_copy_is_rebuilt_once_its_queues_are_consumed_and_after_each_reconnection(copy):
    made = [product() for _ in range(5)]
    for each in made:
        approved(each)
    catalogue = FakeCatalogue([entry(each) for each in made])
    copy.sync(catalogue)
    assert not copy.ready and copy.page({}) is None  # its queues are not consumed yet

    copy.queue_consumer.connections = 1
    copy.sync(catalogue)
    assert copy.ready and len(copy.model) == 5
    catalogue.entries = catalogue.entries[:2]
    copy.sync(catalogue)
    assert len(copy.model) == 5  # nothing missed: no rebuild

    copy.queue_consumer.connections = 2  # events may have been lost meanwhile
    copy.sync(catalogue)
    assert len(copy.model) == 2


def test_what_is_heard_while_the_copy_is_rebuilt_is_in_the_new_copy(copy):
    made, late = product(), product()
    approved(made)
    heard = approved(late)  # announced while the rebuild reads its pages

    def hear():
        copy.apply(Showroom.product_changed, heard)

    copy.queue_consumer.connections = 1
    copy.sync(FakeCatalogue([entry(made)], during=hear))
    assert sorted(ids(copy.page({}))) == sorted([made["_id"], late["_id"]])


def test_a_rebuild_that_fails_keeps_the_copy_and_is_tried_again_later(copy):
    made = product()
    approved(made)
    catalogue = FakeCatalogue([entry(made)])
    copy.queue_consumer.connections = 1
    copy.sync(catalogue)
    catalogue.down = True
    copy.queue_consumer.connections = 2
    copy.sync(catalogue)
    assert copy.ready and ids(copy.page({})) == [made["_id"]] and copy.failures == 1
    catalogue.down = False
    copy.sync(catalogue)  # too soon: it waits before trying again
    assert copy.failures == 1 and copy.synced_connection == 1
    copy.retry_at = 0
    copy.sync(catalogue)
    assert copy.failures == 0 and copy.synced_connection == 2
