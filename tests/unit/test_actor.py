"""The actor every service reads, the questions asked of it, and how it travels signed."""

import json

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


# --- the actor on the wire -----------------------------------------------------------

SECRET = b"unit-secret"
NOW = 1_767_225_600


def signed_admin(**overrides):
    signed = actors.sign_actor(ADMIN, "community", "create_hub", SECRET, ttl=60, now=NOW)
    return {**signed, **overrides}


def test_a_signed_actor_is_believed_by_the_method_it_was_signed_for():
    signed = actors.sign_actor(SELLER, "catalogue", "create_product", SECRET, now=NOW)
    assert signed["exp"] == NOW + actors.DEFAULT_SIGNED_ACTOR_TTL
    assert actors.verify_actor(signed, "catalogue", "create_product", SECRET, now=NOW) == SELLER


def test_an_anonymous_caller_is_signed_too():
    signed = actors.sign_actor(None, "catalogue", "list_products", SECRET, now=NOW)
    assert actors.verify_actor(signed, "catalogue", "list_products", SECRET, now=NOW) is None


def test_a_signed_actor_survives_the_trip_through_json():
    travelled = json.loads(json.dumps(signed_admin()))
    assert actors.verify_actor(travelled, "community", "create_hub", SECRET, now=NOW) == ADMIN


@pytest.mark.parametrize(
    "signed",
    [
        pytest.param(ADMIN, id="a plain actor"),
        pytest.param(None, id="no actor at all"),
        pytest.param("admin", id="not a mapping"),
        pytest.param({**ADMIN, "sig": "0" * 64}, id="a made-up signature"),
        pytest.param(signed_admin(sig=None), id="a signature that is not text"),
        pytest.param(
            signed_admin(actor={**ADMIN, "member_id": "someone-else"}), id="another member"
        ),
        pytest.param(signed_admin(actor={**BUYER, "is_admin": True}), id="the admin flag set"),
        pytest.param(signed_admin(exp=NOW + 3600), id="a longer life"),
        pytest.param(signed_admin(exp=float("nan")), id="not JSON"),
    ],
)
def test_an_unsigned_or_tampered_actor_is_not_believed(signed):
    with pytest.raises(actors.ActorNotBelieved):
        actors.verify_actor(signed, "community", "create_hub", SECRET, now=NOW)


def test_an_actor_signed_under_another_key_is_not_believed():
    with pytest.raises(actors.ActorNotBelieved, match="signature"):
        actors.verify_actor(signed_admin(), "community", "create_hub", b"other", now=NOW)


@pytest.mark.parametrize(
    ("service", "method"),
    [("community", "assign_coordinator"), ("catalogue", "create_hub"), ("orders", "cancel_order")],
)
def test_an_actor_signed_for_one_method_is_refused_by_another(service, method):
    with pytest.raises(actors.ActorNotBelieved, match="signed for community.create_hub"):
        actors.verify_actor(signed_admin(), service, method, SECRET, now=NOW)


def test_a_signed_actor_expires():
    signed = signed_admin()
    assert actors.verify_actor(signed, "community", "create_hub", SECRET, now=NOW + 59)
    with pytest.raises(actors.ActorNotBelieved, match="expired"):
        actors.verify_actor(signed, "community", "create_hub", SECRET, now=NOW + 60)
