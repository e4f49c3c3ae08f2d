"""The actor every service reads, and the questions asked of it."""

import pytest

from services.common import actor as actors

HUB, OTHER_HUB = "h1", "h2"
COORDINATOR = actors.make_actor("c1", roles={HUB: ["coordinator"]})
SELLER = actors.make_actor("s1", roles={HUB: ["seller", "buyer"]})
BUYER = actors.make_actor("b1", roles={HUB: ["buyer"]})
ADMIN = actors.make_actor("a1", is_admin=True)
NOBODY_YET = {"member_id": "n1", "is_admin": False, "roles": {}}
WITHOUT_ROLES = [None, {"member_id": "n1"}, {"member_id": "n1", "roles": None}, NOBODY_YET]


def test_an_actor_has_each_hub_s_roles_sorted_once():
    actor = actors.make_actor("m1", roles={HUB: ["seller", "coordinator", "seller"]})
    assert actor == {
        "member_id": "m1",
        "is_admin": False,
        "roles": {HUB: ["coordinator", "seller"]},
    }


@pytest.mark.parametrize("actor", WITHOUT_ROLES)
def test_an_anonymous_caller_or_one_without_roles_has_none_anywhere(actor):
    assert actors.roles_in(actor, HUB) == ()
    assert not actors.is_admin(actor)
    assert not actors.is_coordinator(actor, HUB)
    assert not actors.is_seller(actor, HUB)
    assert not actors.is_member(actor, HUB)
    assert actors.coordinated_hubs(actor) == []


def test_an_anonymous_caller_is_nobody():
    assert actors.member_id(None) is None
    assert actors.member_id(SELLER) == "s1"


def test_roles_are_per_hub():
    assert actors.roles_in(SELLER, HUB) == ("buyer", "seller")
    assert actors.roles_in(SELLER, OTHER_HUB) == ()
    assert actors.has_role(SELLER, HUB, actors.SELLER)
    assert not actors.has_role(SELLER, OTHER_HUB, actors.SELLER)


@pytest.mark.parametrize(
    ("actor", "allowed"), [(COORDINATOR, True), (ADMIN, True), (SELLER, False), (BUYER, False)]
)
def test_coordinators_of_the_hub_and_admins_run_it(actor, allowed):
    assert actors.is_coordinator(actor, HUB) is allowed
    assert actors.is_coordinator(actor, OTHER_HUB) is actors.is_admin(actor)


def test_the_admin_flag_is_not_a_role_in_a_hub():
    assert actors.roles_in(ADMIN, HUB) == ()
    assert not actors.is_seller(ADMIN, HUB) and not actors.is_member(ADMIN, HUB)
    assert actors.coordinated_hubs(ADMIN) == []


@pytest.mark.parametrize(
    ("actor", "member"), [(SELLER, True), (BUYER, True), (COORDINATOR, False), (ADMIN, False)]
)
def test_members_of_a_hub_are_its_approved_sellers_and_buyers(actor, member):
    assert actors.is_member(actor, HUB) is member


def test_the_hubs_a_coordinator_runs_are_listed_in_order():
    actor = actors.make_actor("c1", roles={"h3": ["coordinator"], HUB: ["coordinator"]})
    actor["roles"]["h4"] = ["seller"]
    assert actors.coordinated_hubs(actor) == [HUB, "h3"]
