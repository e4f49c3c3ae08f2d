"""Catalogue rules, without a broker or a database."""

import pytest

from services.catalogue import domain
from services.catalogue.exceptions import (
    NotASeller,
    NotEnoughStock,
    NotTheCoordinator,
    NotYourProduct,
    ProductNotFound,
)
from services.common.envelope import PENDING_EVENTS, isoformat
from services.common.errors import ValidationError
from tests.support.aggregates import events
from tests.support.catalogue import coordinator_of, make_actor, make_product, seller_of

HUB = "hub-a"


@pytest.fixture
def seller():
    return seller_of(HUB)


@pytest.fixture
def product(seller):
    product = domain.new_product(seller, make_product(HUB))
    product.pop(PENDING_EVENTS)
    return product


@pytest.fixture
def approved(product):
    domain.approve(product, coordinator_of(HUB))
    product.pop(PENDING_EVENTS)
    return product


def test_a_seller_submits_a_product_for_review(seller):
    product = domain.new_product(seller, make_product(HUB, price=12_000))
    assert product["status"] == domain.PENDING_REVIEW
    assert product["seller_id"] == seller["member_id"]
    [(kind, data)] = events(product)
    assert kind == "product_submitted"
    assert data == {
        "product_id": product["_id"],
        "code": product["code"],
        "hub_id": HUB,
        "seller_id": seller["member_id"],
        "name": product["name"],
        "category": "food",
        "price": 12_000,
        "unit": "pack",
        "status": "pending_review",
        "acted_by": None,
        "version": 1,
        "on_show": False,
        "description": "Buatan UMKM desa dari bahan lokal, tanpa pengawet.",
        "images": ["https://img.kompordesa.id/keripik.jpg"],
        "stock": 40,
        "stock_version": 0,
        "reviewed_at": None,
        "created_at": isoformat(product["created_at"]),
        "updated_at": isoformat(product["created_at"]),
    }


@pytest.mark.parametrize(
    "actor",
    [
        None,
        make_actor(),
        make_actor({HUB: ["buyer"]}),
        make_actor({HUB: ["coordinator"]}),
        make_actor({"hub-b": ["seller"]}),
        make_actor(is_admin=True),
    ],
)
def test_only_a_seller_of_the_hub_submits_products(actor):
    with pytest.raises(NotASeller):
        domain.new_product(actor, make_product(HUB))


def test_a_material_edit_sends_an_approved_product_back_to_review(approved, seller):
    domain.edit(approved, seller, {"name": "Keripik Tempe Original", "price": 15_000})
    assert approved["status"] == domain.PENDING_REVIEW
    [(kind, data)] = events(approved)
    assert kind == "product_updated"
    assert data["changed"] == ["name"] and data["status"] == "pending_review"
    assert "old_price" not in data


def test_a_price_change_keeps_the_approval_and_tells_old_and_new_price(approved, seller):
    domain.edit(approved, seller, {"price": 17_500, "unit": "box"})
    assert approved["status"] == domain.APPROVED
    [(kind, data)] = events(approved)
    assert kind == "product_updated"
    assert data["changed"] == ["price", "unit"]
    assert (data["old_price"], data["new_price"], data["price"]) == (15_000, 17_500, 17_500)


def test_an_edit_that_changes_nothing_says_nothing(approved, seller):
    domain.edit(approved, seller, {"price": approved["price"], "name": approved["name"]})
    assert events(approved) == []


def test_a_material_edit_resubmits_a_rejected_product(product, seller):
    domain.reject(product, coordinator_of(HUB), "Foto buram")
    product.pop(PENDING_EVENTS)
    domain.edit(product, seller, {"images": ["https://img.example.id/baru.jpg"]})
    assert product["status"] == domain.PENDING_REVIEW
    assert product["rejection_reason"] is None


@pytest.mark.parametrize(
    "actor",
    [
        seller_of(HUB),  # another seller of the same hub
        coordinator_of(HUB),
        make_actor(is_admin=True),
    ],
)
def test_nobody_but_its_seller_edits_a_product(product, actor):
    with pytest.raises(NotYourProduct):
        domain.edit(product, actor, {"price": 1})


def test_a_seller_who_lost_the_role_cannot_edit(product, seller):
    with pytest.raises(NotYourProduct):
        domain.edit(product, {**seller, "roles": {}}, {"price": 1})


def test_the_hubs_coordinator_approves_once(product):
    coordinator = coordinator_of(HUB)
    domain.approve(product, coordinator)
    domain.approve(product, coordinator)
    assert product["status"] == domain.APPROVED
    assert [kind for kind, _ in events(product)] == ["product_approved"]


def test_a_rejection_carries_the_reason(product):
    domain.reject(product, coordinator_of(HUB), "Harga tidak wajar")
    [(kind, data)] = events(product)
    assert kind == "product_rejected" and data["reason"] == "Harga tidak wajar"
    assert data["status"] == "rejected"


def test_an_admin_curates_in_any_hub(product):
    domain.reject(product, make_actor(is_admin=True), "Bukan produk desa")
    assert product["status"] == domain.REJECTED


@pytest.mark.parametrize(
    "actor",
    [None, seller_of(HUB), coordinator_of("hub-b"), make_actor({HUB: ["buyer"]})],
)
def test_only_a_coordinator_of_the_products_hub_curates(product, actor):
    with pytest.raises(NotTheCoordinator):
        domain.approve(product, actor)
    with pytest.raises(NotTheCoordinator):
        domain.reject(product, actor, "no")


def test_an_unapproved_product_is_hidden_from_everyone_but_seller_and_coordinator(product, seller):
    assert domain.visible(product, seller) is product
    assert domain.visible(product, coordinator_of(HUB)) is product
    for outsider in (None, seller_of(HUB), coordinator_of("hub-b")):
        with pytest.raises(ProductNotFound):
            domain.visible(product, outsider)


def test_an_approved_product_is_public(approved):
    assert domain.visible(approved, None) is approved


def test_stock_never_goes_below_zero(product, seller):
    assert domain.restocked(product, -40) == 0
    with pytest.raises(NotEnoughStock):
        domain.restock(product, seller, -41)
    with pytest.raises(ValidationError):
        domain.restock(product, seller, domain.MAX_STOCK)
    assert product["stock"] == 40


@pytest.mark.parametrize(
    ("before", "after", "low"),
    [(6, 5, True), (40, 0, True), (5, 4, False), (3, 0, False), (6, 6, False), (2, 9, False)],
)
def test_stock_low_is_told_when_stock_falls_to_the_threshold(before, after, low):
    assert domain.crossed_low(before, after) is low


def test_a_seller_correction_to_the_threshold_emits_stock_low(product):
    domain.set_stock(product, 5)
    [(kind, data)] = events(product)
    assert kind == "stock_low"
    assert data == {
        "product_id": product["_id"],
        "hub_id": HUB,
        "seller_id": product["seller_id"],
        "name": product["name"],
        "stock": 5,
        "threshold": domain.LOW_STOCK_THRESHOLD,
    }


def test_order_lines_add_up_a_repeated_product():
    items = [
        {"product_id": "p", "quantity": 2},
        {"product_id": "q", "quantity": 1},
        {"product_id": "p", "quantity": 3},
    ]
    assert domain.order_lines({"items": items}) == [
        {"product_id": "p", "quantity": 5},
        {"product_id": "q", "quantity": 1},
    ]


@pytest.mark.parametrize(
    "items",
    [
        None,
        [],
        [{"product_id": "p", "quantity": 0}],
        [{"product_id": "p", "quantity": -1}],
        [{"product_id": "p", "quantity": 1.5}],
        [{"product_id": "p", "quantity": True}],
        [{"product_id": {"$gt": ""}, "quantity": 1}],
        ["p"],
    ],
)
def test_order_lines_refuse_items_that_make_no_sense(items):
    assert domain.order_lines({"items": items}) is None


def test_a_reservation_confirms_with_the_items_their_stock_and_any_low_stock():
    reservation = domain.new_reservation("o1", HUB, [{"product_id": "p", "quantity": 2}])
    low = {"product_id": "p", "stock": 3}
    level = {"product_id": "p", "stock": 3, "stock_version": 7}
    domain.confirm(reservation, [low], [level])
    assert reservation["state"] == domain.RESERVED
    reserved = {"order_id": "o1", "items": [{"product_id": "p", "quantity": 2}], "levels": [level]}
    assert events(reservation) == [("stock_reserved", reserved), ("stock_low", low)]
    domain.answer_again(reservation)
    assert events(reservation)[-1] == ("stock_reserved", reserved)


def test_a_failed_reservation_names_the_shortages():
    reservation = domain.new_reservation("o1", HUB, [{"product_id": "p", "quantity": 9}])
    shortage = domain.shortage(reservation["items"][0], 4)
    domain.fail(reservation, [shortage])
    assert events(reservation) == [
        (
            "stock_reservation_failed",
            {
                "order_id": "o1",
                "reason": "insufficient_stock",
                "shortages": [{"product_id": "p", "requested": 9, "available": 4}],
                "levels": [],
            },
        )
    ]


def test_an_order_announced_again_after_its_reservation_hears_the_same_answer():
    reservation = domain.new_reservation("o1", HUB, [{"product_id": "p", "quantity": 2}])
    domain.confirm(reservation, [{"product_id": "p", "stock": 3}])
    [first, _low] = events(reservation)
    assert domain.answer_again(reservation) is reservation
    assert events(reservation) == [first]  # the decision only: stock_low was news once
    assert reservation["state"] == domain.RESERVED


@pytest.mark.parametrize("reason", [domain.INSUFFICIENT_STOCK, domain.INVALID_ITEMS])
def test_an_order_announced_again_after_its_failure_hears_the_same_failure(reason):
    reservation = domain.new_reservation("o1", HUB, [{"product_id": "p", "quantity": 9}])
    domain.fail(reservation, [domain.shortage(reservation["items"][0], 4)], reason=reason)
    first = events(reservation)
    assert domain.answer_again(reservation) is reservation
    assert events(reservation) == first
    assert reservation["state"] == domain.FAILED


@pytest.mark.parametrize("ended", ["released", "settled", "tombstone"])
def test_an_order_cancelled_or_completed_since_is_not_answered_again(ended):
    if ended == "tombstone":
        reservation = domain.tombstone("o1")
    else:
        reservation = domain.new_reservation("o1", HUB, [{"product_id": "p", "quantity": 2}])
        domain.confirm(reservation)
        if ended == "released":
            domain.release(reservation)
        else:
            reservation["state"] = domain.SETTLED
        events(reservation)
    assert domain.answer_again(reservation) is None
    assert events(reservation) == []


def test_listing_products_under_review_is_for_the_hubs_coordinator_or_their_seller(seller):
    pending = {"status": domain.PENDING_REVIEW, "hub_id": HUB}
    domain.check_can_list(coordinator_of(HUB), pending)
    domain.check_can_list(seller, {"status": "rejected", "seller_id": seller["member_id"]})
    domain.check_can_list(None, {"status": domain.APPROVED})
    for outsider in (None, seller, coordinator_of("hub-b")):
        with pytest.raises(NotTheCoordinator):
            domain.check_can_list(outsider, pending)


# --- four eyes, and suspended sellers ------------------------------------------------


def test_nobody_approves_their_own_product():
    seller_and_coordinator = make_actor({HUB: ["seller", "coordinator"]})
    product = domain.new_product(seller_and_coordinator, make_product(HUB))
    with pytest.raises(NotTheCoordinator) as raised:
        domain.approve(product, seller_and_coordinator)
    assert "own product" in raised.value.message
    admin = {**seller_and_coordinator, "is_admin": True}
    with pytest.raises(NotTheCoordinator):
        domain.approve(product, admin)
    assert product["status"] == domain.PENDING_REVIEW
    domain.approve(product, coordinator_of(HUB))
    assert product["status"] == domain.APPROVED


def test_a_suspended_seller_s_product_leaves_the_showroom(approved, seller):
    approved[domain.SELLER_SUSPENDED] = True
    assert not domain.on_show(approved)
    with pytest.raises(ProductNotFound):
        domain.visible(approved, make_actor())
    assert domain.visible(approved, seller) is approved
    assert domain.visible(approved, coordinator_of(HUB)) is approved
    approved[domain.SELLER_SUSPENDED] = False
    assert domain.visible(approved, None) is approved


def test_suspending_a_seller_announces_that_their_product_left_the_showroom_and_came_back(
    approved,
):
    approved["version"] = 4
    domain.set_seller_suspended(approved, True)
    [(kind, data)] = events(approved)
    assert (kind, data["changed"], data["on_show"], data["version"]) == (
        "product_updated",
        ["on_show"],
        False,
        5,
    )
    domain.set_seller_suspended(approved, True)
    assert events(approved) == []  # it was off show already: nothing to tell
    domain.set_seller_suspended(approved, False)
    [(_, data)] = events(approved)
    assert data["on_show"] is True


def test_a_suspension_of_the_seller_of_a_product_under_review_tells_nobody(product):
    domain.set_seller_suspended(product, True)
    assert events(product) == [] and product[domain.SELLER_SUSPENDED] is True


def test_every_stock_change_counts_and_each_product_event_names_the_version_it_makes(
    product, seller
):
    product["version"] = 2
    domain.restock(product, seller, 3)
    domain.restock(product, seller, 2)
    changes = [data for kind, data in events(product) if kind == "stock_changed"]
    assert [(data["stock"], data["stock_version"]) for data in changes] == [(43, 1), (45, 2)]
    domain.edit(product, seller, {"price": 20_000})
    [(_, data)] = events(product)
    assert (data["version"], data["stock"], data["stock_version"]) == (3, 45, 2)
    assert domain.stock_level(product) == {
        "product_id": product["_id"],
        "stock": 45,
        "stock_version": 2,
    }


def test_only_a_seller_s_membership_decisions_concern_their_products():
    data = {"membership_id": "ms", "hub_id": HUB, "member_id": "m1", "role": "seller"}
    assert domain.seller_standing(data) == (HUB, "m1")
    assert domain.seller_standing({**data, "role": "buyer"}) is None


def test_a_product_submitted_under_a_key_gets_the_same_id_on_every_retry(seller):
    again = domain.new_product(
        seller, make_product(HUB), product_id=domain.product_id_for(seller, "k1")
    )
    assert again["_id"] == domain.product_id_for(seller, "k1")
    assert domain.product_id_for(seller, "k1") != domain.product_id_for(seller, "k2")
    assert domain.product_id_for(seller, "k1") != domain.product_id_for(seller_of(HUB), "k1")
    assert len(again["_id"]) == len(domain.new_product(seller, make_product(HUB))["_id"])


def test_a_stock_change_is_remembered_under_its_member_and_key(seller):
    assert domain.stock_change_key(seller, "k1") != domain.stock_change_key(seller_of(HUB), "k1")


# --- the coordinator acts for a seller -----------------------------------------------


@pytest.fixture
def coordinator():
    return coordinator_of(HUB)


def test_the_coordinator_submits_a_product_that_is_the_sellers(coordinator, seller):
    fields = make_product(HUB, on_behalf_of=seller["member_id"])
    product = domain.new_product(coordinator, fields, standing=True)
    assert product["seller_id"] == seller["member_id"]
    assert product["acted_by"] == coordinator["member_id"]
    [(_, data)] = events(product)
    assert data["seller_id"] == seller["member_id"]
    assert data["acted_by"] == coordinator["member_id"]


def test_naming_oneself_is_acting_for_oneself(seller):
    product = domain.new_product(seller, make_product(HUB, on_behalf_of=seller["member_id"]))
    assert product["seller_id"] == seller["member_id"] and product["acted_by"] is None


@pytest.mark.parametrize(
    ("actor", "standing"),
    [
        (coordinator_of("hub-b"), True),  # another hub's coordinator
        (seller_of(HUB), True),  # a fellow seller
        (make_actor(), True),
        (coordinator_of(HUB), False),  # the seller is suspended
        (coordinator_of(HUB), None),  # not an approved seller of the hub
    ],
)
def test_nobody_else_submits_for_a_seller_nor_for_one_not_in_good_standing(actor, standing):
    fields = make_product(HUB, on_behalf_of="seller-x")
    with pytest.raises((NotASeller, NotTheCoordinator)) as refused:
        domain.new_product(actor, fields, standing=standing)
    assert "on_behalf_of" in refused.value.details


def test_the_coordinator_changes_a_sellers_stock_and_says_so(product, coordinator):
    domain.restock(product, coordinator, 5, standing=True)
    assert product["stock"] == 45
    [(kind, data)] = events(product)
    assert kind == "stock_changed"
    assert data == {
        "product_id": product["_id"],
        "code": product["code"],
        "hub_id": HUB,
        "seller_id": product["seller_id"],
        "name": product["name"],
        "stock": 45,
        "stock_version": 1,
        "delta": 5,
        "acted_by": coordinator["member_id"],
        "updated_at": isoformat(product["updated_at"]),
    }


def test_a_sellers_own_stock_change_names_nobody_acting(product, seller):
    domain.restock(product, seller, -36)
    kinds = dict(events(product))
    assert kinds["stock_changed"]["acted_by"] is None and kinds["stock_changed"]["stock"] == 4
    assert "stock_low" in kinds


@pytest.mark.parametrize("standing", [False, None])
def test_the_coordinator_cannot_change_stock_of_a_seller_not_in_good_standing(
    product, coordinator, standing
):
    with pytest.raises(NotASeller) as refused:
        domain.restock(product, coordinator, 5, standing=standing)
    assert "product_id" in refused.value.details and product["stock"] == 40


def test_a_product_flagged_suspended_is_not_changed_by_the_coordinator(product, coordinator):
    product[domain.SELLER_SUSPENDED] = True
    with pytest.raises(NotASeller):
        domain.restock(product, coordinator, 5, standing=True)


def test_another_hubs_coordinator_cannot_change_the_stock(product):
    with pytest.raises(NotYourProduct):
        domain.restock(product, coordinator_of("hub-b"), 5, standing=True)
