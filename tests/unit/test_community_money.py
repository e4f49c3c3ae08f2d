"""A hub's money settings as community accepts them, and the network report's people
and trainings as its store counts them."""

import datetime

import pytest

from services.common.errors import ValidationError
from services.community import domain
from services.community.repository import CommunityRepository
from services.community.schemas import HubSchema, UpdateHubSchema
from tests.support.stores import memory_repository

ADMIN = {"member_id": "a1", "is_admin": True, "roles": {}}
ACCOUNT = {"bank": "BRI", "number": "001201000123567", "holder": "Koperasi Simpul Pujon"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"commission_percent": 60}, "commission_percent"),
        ({"commission_percent": -1}, "commission_percent"),
        ({"commission_percent": 12.5}, "commission_percent"),
        ({"commission_percent": "10"}, "commission_percent"),
        ({"bank_account": {**ACCOUNT, "number": "0012-0100"}}, "bank_account.number"),
        ({"bank_account": {**ACCOUNT, "number": "00120100O123"}}, "bank_account.number"),
        ({"bank_account": {**ACCOUNT, "number": "12345"}}, "bank_account.number"),
        ({"bank_account": {**ACCOUNT, "number": 1234567}}, "bank_account.number"),
        ({"bank_account": {"bank": "BRI", "number": "1234567"}}, "bank_account.holder"),
        ({"bank_account": {**ACCOUNT, "bank": "  "}}, "bank_account.bank"),
        ({}, "commission_percent"),
        ({"name": "Simpul Baru"}, "name"),
    ],
)
def test_bad_hub_settings_are_refused_naming_the_field(body, field):
    with pytest.raises(ValidationError) as raised:
        UpdateHubSchema().load_or_raise(body)
    assert field in raised.value.details, raised.value.details


@pytest.mark.parametrize(
    "body",
    [
        {"commission_percent": 0},
        {"commission_percent": 50},
        {"bank_account": ACCOUNT},
        {"bank_account": None},
        {"commission_percent": 12, "bank_account": {**ACCOUNT, "number": "9" * 20}},
    ],
)
def test_good_hub_settings_load(body):
    assert UpdateHubSchema().load_or_raise(body) == body


def test_a_hub_stored_before_money_settings_shows_the_defaults():
    shown = HubSchema().dump({"_id": "h1", "name": "Simpul Lama"})
    assert shown["commission_percent"] == 10 and shown["bank_account"] is None


@pytest.fixture
def repository():
    return memory_repository(CommunityRepository, "community")


def add_hub(repository, name, district):
    fields = {
        "name": name,
        "village": "Desa",
        "district": district,
        "regency": "Malang",
        "province": "Jawa Timur",
        "address": "Jl. Raya 1",
    }
    return repository.add_hub(domain.new_hub(fields, ADMIN))["_id"]


def test_the_network_s_people_and_trainings_are_counted_by_the_store(repository):
    batu, dau = add_hub(repository, "Simpul Batu", "Batu"), add_hub(repository, "Simpul Dau", "Dau")
    repository.db.hubs.update_one({"_id": batu}, {"$set": {"coordinator_ids": ["c1", "c2"]}})
    memberships = [
        ("seller", "approved"),
        ("seller", "approved"),
        ("buyer", "approved"),
        ("seller", "suspended"),
        ("buyer", "pending"),
    ]
    repository.db.memberships.insert_many(
        {"_id": str(n), "hub_id": batu, "member_id": str(n), "role": role, "status": status}
        for n, (role, status) in enumerate(memberships)
    )
    now = datetime.datetime.now(datetime.UTC)
    trainings = [
        (now - datetime.timedelta(days=40), ["m1"]),  # before the period
        (now - datetime.timedelta(days=2), ["m1", "m2", "m3"]),
        (now - datetime.timedelta(days=1), []),
        (now + datetime.timedelta(days=3), []),  # not held yet
    ]
    repository.db.trainings.insert_many(
        {"_id": f"t{n}", "hub_id": batu, "title": f"T{n}", "starts_at": at, "completed": done}
        for n, (at, done) in enumerate(trainings)
    )
    rows = repository.network_members(now - datetime.timedelta(days=30), None)
    assert rows == [
        {
            "hub_id": batu,
            "name": "Simpul Batu",
            "district": "Batu",
            "members_by_role": {"seller": 2, "buyer": 1, "coordinator": 2},
            "trainings_held": 2,
            "trainings_completed": 3,
        },
        {
            "hub_id": dau,
            "name": "Simpul Dau",
            "district": "Dau",
            "members_by_role": {"seller": 0, "buyer": 0, "coordinator": 0},
            "trainings_held": 0,
            "trainings_completed": 0,
        },
    ]
