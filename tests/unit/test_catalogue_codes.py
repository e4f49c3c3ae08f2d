"""Product codes: what they are made of, and that a clash with a stored code is tried
again (on the in-process store, with its unique index)."""

import itertools

import pytest

from services.catalogue import domain
from services.catalogue.contract import CODE_ALPHABET, CODE_LETTERS
from services.catalogue.repository import CatalogueRepository
from services.common.envelope import PENDING_EVENTS
from services.common.errors import Conflict
from tests.support.aggregates import events
from tests.support.catalogue import make_product, seller_of
from tests.support.stores import memory_repository

HUB = "hub-a"


@pytest.fixture
def repository():
    return memory_repository(CatalogueRepository, "catalogue")


def test_the_alphabet_has_no_look_alikes_and_no_x():
    assert set(CODE_ALPHABET).isdisjoint("0O1IL" + "X")
    assert len(set(CODE_ALPHABET)) == len(CODE_ALPHABET) == 30
    assert CODE_LETTERS == "ABCDEFGHJKMNPQRSTUVWYZ"


def test_a_code_is_four_characters_of_the_alphabet_with_a_letter_first_and_last():
    for _ in range(2000):
        code = domain.new_code()
        assert len(code) == 4
        assert set(code) <= set(CODE_ALPHABET)
        assert code[0] in CODE_LETTERS and code[-1] in CODE_LETTERS
        assert domain.normalise_code(code) == code


def test_every_character_of_the_alphabet_is_used_between_the_letters():
    middles = {character for _ in range(3000) for character in domain.new_code()[1:-1]}
    assert middles == set(CODE_ALPHABET)


def test_codes_grow_to_five_after_ten_clashes_and_to_six_after_twenty():
    lengths = [len(domain.new_code(attempt)) for attempt in range(domain.CODE_TRIES)]
    assert lengths == [4] * 10 + [5] * 10 + [6] * 10


def test_a_code_is_read_in_any_case_and_with_spaces_around():
    assert domain.normalise_code(" k7ma ") == "K7MA"
    assert domain.normalise_code("Mk2a9b") == "MK2A9B"


@pytest.mark.parametrize(
    "typed",
    [
        "K0MA",
        "KOMA",
        "K1MA",
        "KIMA",
        "KLMA",
        "KXMA",
        "7KMA",
        "K7M2",
        "KMA",
        "KMA2345Z",
        "",
        None,
        42,
    ],
)
def test_what_cannot_be_a_code_is_none(typed):
    assert domain.normalise_code(typed) is None


def test_a_new_product_carries_its_code_in_its_event():
    product = domain.new_product(seller_of(HUB), make_product(HUB), code="K7MA")
    [(_, data)] = events(product)
    assert product["code"] == data["code"] == "K7MA"


def test_a_code_already_taken_is_tried_again_until_a_free_one_is_found(repository, monkeypatch):
    seller = seller_of(HUB)
    first = repository.add_product(
        lambda code: domain.new_product(seller, make_product(HUB), code=code)
    )
    # the next three draws give the taken code again, then a free one
    draws = itertools.chain([first["code"]] * 3, ["FREE"])
    monkeypatch.setattr(domain, "new_code", lambda attempt=0: next(draws))
    tried = []

    def make(code):
        tried.append(code)
        return domain.new_product(seller, make_product(HUB), code=code)

    second = repository.add_product(make)
    assert tried == [first["code"]] * 3 + ["FREE"]
    assert second["code"] == "FREE" and second["_id"] != first["_id"]
    assert repository.find_product_by_code("FREE")["_id"] == second["_id"]


def test_a_retry_under_the_same_id_finds_the_product_it_created(repository):
    seller = seller_of(HUB)
    fields = make_product(HUB)
    make = lambda code: domain.new_product(seller, fields, product_id="p-1", code=code)  # noqa: E731
    first = repository.add_product(make)
    again = repository.add_product(make)
    assert again["_id"] == "p-1" and again["code"] == first["code"]
    assert repository.db.products.count_documents({}) == 1


def test_when_every_try_clashes_the_caller_is_told_to_try_again(repository, monkeypatch):
    seller = seller_of(HUB)
    repository.add_product(lambda code: domain.new_product(seller, make_product(HUB), code="KAMA"))
    monkeypatch.setattr(domain, "new_code", lambda attempt=0: "KAMA")
    with pytest.raises(Conflict):
        repository.add_product(
            lambda code: domain.new_product(seller, make_product(HUB), code=code)
        )
    assert repository.db.products.count_documents({}) == 1


def test_products_stored_without_a_code_get_one_each_and_say_so(repository):
    seller = seller_of(HUB)
    for _ in range(3):
        product = domain.new_product(seller, make_product(HUB))
        product.pop(PENDING_EVENTS)
        del product["code"]
        repository.insert("products", product)
    coded = repository.backfill_codes()
    stored = list(repository.db.products.find({}))
    assert sorted(coded) == sorted(product["_id"] for product in stored)
    codes = [product["code"] for product in stored]
    assert len(set(codes)) == 3 and all(domain.normalise_code(code) for code in codes)
    for product in stored:
        [entry] = product["outbox"]
        assert entry["type"] == "product_updated"
        assert entry["data"]["changed"] == ["code"] and entry["data"]["code"] == product["code"]
    assert repository.backfill_codes() == []  # nothing left to code
