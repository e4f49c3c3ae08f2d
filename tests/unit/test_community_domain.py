"""Community rules without a broker or a database."""

import datetime

import pytest

from services.common.envelope import PENDING_EVENTS, utcnow
from services.common.errors import Conflict, Forbidden, ValidationError
from services.community import channels, domain
from services.community.exceptions import TooManyAttempts
from tests.support.aggregates import events

HUB_FIELDS = {
    "name": "Simpul Pujon",
    "village": "Pujon Kidul",
    "district": "Pujon",
    "regency": "Malang",
    "province": "Jawa Timur",
    "address": "Jl. Raya Pujon 1",
}
COORDINATOR = {"member_id": "c1", "is_admin": False, "roles": {"h1": ["coordinator"]}}
OTHER_COORDINATOR = {"member_id": "c2", "is_admin": False, "roles": {"h2": ["coordinator"]}}
ADMIN = {"member_id": "a1", "is_admin": True, "roles": {}}
SELLER = {"member_id": "s1", "is_admin": False, "roles": {"h1": ["seller"]}}


def make_membership(status="pending", role="seller"):
    membership = domain.new_membership(
        "m1", {"_id": "h1"}, {"role": role, "business_name": "Keripik Bu Siti"}
    )
    membership.pop(PENDING_EVENTS)
    membership["status"] = status
    return membership


def make_training(capacity=2):
    training = domain.new_training(
        {"_id": "h1"},
        {
            "title": "Pembukuan",
            "topic": "bookkeeping",
            "starts_at": datetime.datetime(2026, 12, 1, 9),
            "capacity": capacity,
        },
        COORDINATOR,
    )
    training.pop(PENDING_EVENTS)
    return training


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Simpul Pujon Kidul", "simpul-pujon-kidul"),
        ("  SIMPUL  batu!! ", "simpul-batu"),
        ("Simpul Tumpang — Ngadas", "simpul-tumpang-ngadas"),
        ("Café Désa", "cafe-desa"),
    ],
)
def test_hub_slugs_are_plain_lower_case_words(name, slug):
    assert domain.slugify(name) == slug


def test_a_name_without_letters_or_digits_has_no_slug():
    with pytest.raises(ValidationError) as error:
        domain.slugify("!!!")
    assert "name" in error.value.details


def test_a_new_hub_announces_itself_with_the_default_commission_and_no_bank_account():
    hub = domain.new_hub(HUB_FIELDS, ADMIN)
    money = {"commission_percent": 10, "bank_account": None}
    assert events(hub) == [
        ("hub_created", {"hub_id": hub["_id"], "slug": "simpul-pujon", **HUB_FIELDS, **money})
    ]


ACCOUNT = {"bank": "BRI", "number": "001201000123567", "holder": "Koperasi Simpul Pujon"}


def make_hub():
    hub = domain.new_hub(HUB_FIELDS, ADMIN)
    hub["_id"] = "h1"
    events(hub)
    return hub


@pytest.mark.parametrize("actor", [COORDINATOR, ADMIN])
def test_the_hub_s_coordinator_or_an_admin_sets_its_money_and_it_is_announced_once(actor):
    hub = make_hub()
    domain.change_hub(hub, actor, {"commission_percent": 12, "bank_account": ACCOUNT})
    domain.change_hub(hub, actor, {"commission_percent": 12, "bank_account": ACCOUNT})
    assert (hub["commission_percent"], hub["bank_account"]) == (12, ACCOUNT)
    assert events(hub) == [
        (
            "hub_updated",
            {
                "hub_id": "h1",
                "name": "Simpul Pujon",
                "commission_percent": 12,
                "bank_account": ACCOUNT,
                "changed": ["bank_account", "commission_percent"],
            },
        )
    ]


def test_a_hub_update_names_only_what_changed_and_a_null_account_removes_it():
    hub = make_hub()
    domain.change_hub(hub, ADMIN, {"bank_account": {**ACCOUNT, "holder": " Simpul "}})
    assert events(hub)[0][1]["changed"] == ["bank_account"]
    assert hub["bank_account"]["holder"] == "Simpul"
    domain.change_hub(hub, ADMIN, {"bank_account": None, "commission_percent": 10})
    ((_, data),) = events(hub)
    assert data["changed"] == ["bank_account"] and data["bank_account"] is None


def test_a_hub_stored_before_money_settings_counts_at_the_default():
    hub = make_hub()
    del hub["commission_percent"], hub["bank_account"]
    assert domain.money_settings(hub) == {"commission_percent": 10, "bank_account": None}
    domain.change_hub(hub, ADMIN, {"commission_percent": 10})
    assert events(hub) == []


@pytest.mark.parametrize("actor", [OTHER_COORDINATOR, SELLER])
def test_nobody_else_changes_a_hub_s_money(actor):
    with pytest.raises(Forbidden):
        domain.change_hub(make_hub(), actor, {"commission_percent": 0})


def test_only_an_admin_sees_the_network():
    domain.check_can_see_network(ADMIN)
    for actor in (COORDINATOR, SELLER):
        with pytest.raises(Forbidden):
            domain.check_can_see_network(actor)


def test_the_network_rows_count_every_hub_and_every_role_even_at_zero():
    hubs = [
        {"_id": "h2", "name": "Simpul Dau", "district": "Dau", "coordinators": 0},
        {"_id": "h1", "name": "Simpul Batu", "district": "Batu", "coordinators": 2},
    ]
    roles = [{"hub_id": "h1", "role": "seller", "count": 3}]
    trainings = [{"_id": "h1", "held": 2, "completed": 5}]
    assert domain.network_members(hubs, roles, trainings) == [
        {
            "hub_id": "h1",
            "name": "Simpul Batu",
            "district": "Batu",
            "members_by_role": {"seller": 3, "buyer": 0, "coordinator": 2},
            "trainings_held": 2,
            "trainings_completed": 5,
        },
        {
            "hub_id": "h2",
            "name": "Simpul Dau",
            "district": "Dau",
            "members_by_role": {"seller": 0, "buyer": 0, "coordinator": 0},
            "trainings_held": 0,
            "trainings_completed": 0,
        },
    ]


def test_a_retried_hub_creation_matches_but_another_hub_conflicts():
    hub = domain.new_hub(HUB_FIELDS, ADMIN)
    domain.check_same_hub(hub, HUB_FIELDS)
    with pytest.raises(Conflict):
        domain.check_same_hub(hub, {**HUB_FIELDS, "village": "Ngroto"})


def test_assigning_a_coordinator_changes_roles_once():
    hub = domain.new_hub(HUB_FIELDS, ADMIN)
    events(hub)
    domain.assign_coordinator(hub, "m1", ADMIN)
    domain.assign_coordinator(hub, "m1", ADMIN)
    assert hub["coordinator_ids"] == ["m1"]
    assert events(hub) == [
        ("coordinator_assigned", {"hub_id": hub["_id"], "member_id": "m1"}),
        ("roles_changed", {"member_id": "m1"}),
    ]


@pytest.mark.parametrize("actor", [COORDINATOR, SELLER])
def test_only_an_admin_creates_hubs_and_assigns_coordinators(actor):
    with pytest.raises(Forbidden, match="create hubs"):
        domain.new_hub(HUB_FIELDS, actor)
    hub = domain.new_hub(HUB_FIELDS, ADMIN)
    with pytest.raises(Forbidden, match="assign coordinators"):
        domain.assign_coordinator(hub, "m1", actor)
    assert hub["coordinator_ids"] == []


@pytest.mark.parametrize(
    ("actor", "allowed"),
    [(COORDINATOR, True), (ADMIN, True), (OTHER_COORDINATOR, False), (SELLER, False)],
)
def test_only_the_hub_s_coordinators_list_its_memberships(actor, allowed):
    hub = {"_id": "h1"}
    if allowed:
        assert domain.check_can_list_memberships(hub, actor) is hub
    else:
        with pytest.raises(Forbidden, match="list its memberships"):
            domain.check_can_list_memberships(hub, actor)


def test_roles_come_from_approved_memberships_and_coordinated_hubs():
    memberships = [
        {"hub_id": "h1", "role": "seller", "status": "approved"},
        {"hub_id": "h1", "role": "buyer", "status": "pending"},
        {"hub_id": "h2", "role": "buyer", "status": "approved"},
        {"hub_id": "h3", "role": "seller", "status": "suspended"},
    ]
    actor = domain.actor({"_id": "m1", "is_admin": False}, memberships, ["h2"])
    assert actor == {
        "member_id": "m1",
        "is_admin": False,
        "roles": {"h1": ["seller"], "h2": ["buyer", "coordinator"]},
    }


def test_making_an_admin_changes_roles_once():
    member = {"_id": "m1", "is_admin": False}
    domain.make_admin(domain.make_admin(member))
    assert member["is_admin"] is True
    assert events(member) == [("roles_changed", {"member_id": "m1"})]


@pytest.mark.parametrize(
    ("actor", "allowed"),
    [(COORDINATOR, True), (ADMIN, True), (OTHER_COORDINATOR, False), (SELLER, False)],
)
def test_only_the_hub_s_coordinators_and_admins_run_it(actor, allowed):
    assert domain.is_coordinator(actor, "h1") is allowed


@pytest.mark.parametrize(
    ("verb", "status", "outcome"),
    [
        ("approve", "pending", "approved"),
        ("approve", "approved", "approved"),
        ("approve", "suspended", "approved"),
        ("approve", "rejected", Conflict),
        ("reject", "pending", "rejected"),
        ("reject", "rejected", "rejected"),
        ("reject", "approved", Conflict),
        ("reject", "suspended", Conflict),
        ("suspend", "approved", "suspended"),
        ("suspend", "suspended", "suspended"),
        ("suspend", "pending", Conflict),
        ("suspend", "rejected", Conflict),
    ],
)
def test_membership_decisions_follow_the_state_machine(verb, status, outcome):
    membership = make_membership(status)
    args = () if verb == "approve" else ("Alasan",)
    if isinstance(outcome, str):
        domain.decide(membership, COORDINATOR, verb, *args)
        assert membership["status"] == outcome
    else:
        with pytest.raises(outcome):
            domain.decide(membership, COORDINATOR, verb, *args)


@pytest.mark.parametrize("verb", ["approve", "reject", "suspend"])
def test_a_coordinator_of_another_hub_decides_nothing(verb):
    membership = make_membership("approved" if verb == "suspend" else "pending")
    args = () if verb == "approve" else ("Alasan",)
    with pytest.raises(Forbidden):
        domain.decide(membership, OTHER_COORDINATOR, verb, *args)


def test_approval_and_suspension_tell_who_decided_and_change_roles():
    membership = make_membership()
    domain.decide(membership, COORDINATOR, "approve")
    domain.decide(membership, COORDINATOR, "suspend", "Kedaluwarsa")
    key = {"membership_id": membership["_id"], "hub_id": "h1", "member_id": "m1", "role": "seller"}
    assert events(membership) == [
        ("membership_approved", {**key, "business_name": "Keripik Bu Siti", "decided_by": "c1"}),
        ("roles_changed", {"member_id": "m1"}),
        ("membership_suspended", {**key, "reason": "Kedaluwarsa", "decided_by": "c1"}),
        ("roles_changed", {"member_id": "m1"}),
    ]


def test_training_times_are_kept_in_utc_to_the_millisecond():
    wib = datetime.timezone(datetime.timedelta(hours=7))
    moment = datetime.datetime(2026, 12, 1, 9, 0, 0, 123456, tzinfo=wib)
    assert domain.to_utc(moment) == datetime.datetime(2026, 12, 1, 2, 0, 0, 123000, datetime.UTC)


def test_only_coordinators_schedule_trainings():
    with pytest.raises(Forbidden):
        domain.new_training({"_id": "h1"}, {}, OTHER_COORDINATOR)


def test_only_approved_members_of_the_hub_enrol():
    training = make_training()
    domain.check_can_enrol(training, SELLER)
    for actor in (COORDINATOR, ADMIN, {**SELLER, "roles": {"h2": ["seller"]}}):
        with pytest.raises(Forbidden):
            domain.check_can_enrol(training, actor)


def test_enrolment_events_are_made_only_for_an_approved_member_of_the_hub():
    training = make_training()
    (event,) = domain.enrolment_events(training, SELLER)
    assert event["type"] == "training_enrolled" and event["data"]["member_id"] == "s1"
    with pytest.raises(Forbidden):
        domain.enrolment_events(training, COORDINATOR)


@pytest.mark.parametrize(
    ("actor", "allowed"),
    [(COORDINATOR, True), (ADMIN, True), (OTHER_COORDINATOR, False), (SELLER, False)],
)
def test_only_the_hub_s_coordinators_record_completed_trainings(actor, allowed):
    training = make_training()
    if allowed:
        (event,) = domain.completion_events(training, actor, "s1")
        assert event["type"] == "training_completed" and event["data"]["member_id"] == "s1"
    else:
        with pytest.raises(Forbidden, match="record completed trainings"):
            domain.completion_events(training, actor, "s1")


def test_a_refused_enrolment_says_whether_it_was_full_or_a_repeat():
    training = make_training(capacity=1)
    training.update(enrolled=["s1"], seats_left=0)
    with pytest.raises(Conflict, match="already enrolled"):
        domain.why_not_enrolled(training, "s1")
    with pytest.raises(Conflict, match="full"):
        domain.why_not_enrolled(training, "s2")


def test_completion_needs_enrolment_and_a_repeat_is_fine():
    training = make_training()
    training.update(enrolled=["s1", "s2"], completed=["s1"])
    domain.why_not_completed(training, "s1")  # already completed: a retry
    domain.why_not_completed(training, "s2")  # enrolled, so nothing to refuse
    with pytest.raises(Conflict):
        domain.why_not_completed(training, "s3")


def make_member(**overrides):
    fields = {"name": "Siti", "phone": "+6281234567890", **overrides}
    member = domain.new_member(fields, "hash")
    member.pop(PENDING_EVENTS)
    return member


def test_a_new_member_gets_sms_and_indonesian_by_default_and_an_event_without_secrets():
    member = domain.new_member({"name": "Siti", "phone": "+6281234567890"}, "hash")
    (event,) = member[PENDING_EVENTS]
    assert event["type"] == "member_registered"
    assert event["data"]["preferred_channel"] == "sms" and event["data"]["language"] == "id"
    assert "password_hash" not in event["data"]


def test_changing_the_profile_emits_member_updated_with_what_changed():
    member = domain.update_profile(make_member(), {"language": "en", "name": "Siti"})
    (event,) = member[PENDING_EVENTS]
    assert event["type"] == "member_updated" and event["data"]["changed"] == ["language"]


def test_an_unchanged_profile_emits_nothing():
    member = domain.update_profile(make_member(), {"name": "Siti"})
    assert PENDING_EVENTS not in member


@pytest.mark.parametrize(
    ("failures", "seconds"),
    [
        (1, 0),
        (4, 0),
        (5, 30),
        (6, 60),
        (7, 120),
        (20, 900),
    ],
)
def test_lockouts_grow_after_five_wrong_passwords(failures, seconds):
    assert domain.lockout_after(failures) == datetime.timedelta(seconds=seconds)


def test_a_locked_phone_is_told_how_long_to_wait():
    now = utcnow()
    with pytest.raises(TooManyAttempts, match="wait 31 seconds"):
        domain.check_not_locked({"locked_until": now + datetime.timedelta(seconds=30)}, now)
    domain.check_not_locked({"locked_until": now - datetime.timedelta(seconds=1)}, now)
    domain.check_not_locked(None, now)


# --- four eyes, and removing coordinators --------------------------------------------


@pytest.mark.parametrize("status", ["pending", "suspended"])
@pytest.mark.parametrize(
    "approver",
    [
        {"member_id": "m1", "is_admin": False, "roles": {"h1": ["coordinator"]}},
        {"member_id": "m1", "is_admin": True, "roles": {}},
    ],
)
def test_nobody_approves_or_reinstates_their_own_membership(status, approver):
    membership = make_membership(status)
    with pytest.raises(Forbidden) as raised:
        domain.check_can_decide(membership, approver, "approve")
    assert "own membership" in raised.value.message
    with pytest.raises(Forbidden):
        domain.decide(membership, approver, "approve")
    assert membership["status"] == status


@pytest.mark.parametrize("approver", [COORDINATOR, ADMIN])
def test_another_coordinator_or_an_admin_approves_a_coordinator_s_membership(approver):
    membership = make_membership()
    domain.decide(membership, approver, "approve")
    assert membership["status"] == "approved"


def test_removing_a_coordinator_changes_roles_once():
    hub = domain.new_hub(HUB_FIELDS, ADMIN)
    domain.assign_coordinator(hub, "m1", ADMIN)
    events(hub)
    domain.remove_coordinator(hub, "m1", ADMIN)
    domain.remove_coordinator(hub, "m1", ADMIN)
    assert hub["coordinator_ids"] == []
    assert events(hub) == [
        ("coordinator_removed", {"hub_id": hub["_id"], "member_id": "m1", "removed_by": "a1"}),
        ("roles_changed", {"member_id": "m1"}),
    ]


@pytest.mark.parametrize("actor", [COORDINATOR, SELLER])
def test_only_an_admin_removes_coordinators(actor):
    hub = domain.new_hub(HUB_FIELDS, ADMIN)
    domain.assign_coordinator(hub, "c1", ADMIN)
    with pytest.raises(Forbidden, match="remove coordinators"):
        domain.remove_coordinator(hub, "c1", actor)
    assert hub["coordinator_ids"] == ["c1"]


# --- channels: agents, groups, contacts, broadcasts ---------------------------------

HUB = {"_id": "h1", "name": "Simpul Pujon", "commission_percent": 10}
AGENT = {"member_id": "g1", "is_admin": False, "roles": {"h1": ["agent", "buyer"]}}
OTHER_AGENT = {"member_id": "g2", "is_admin": False, "roles": {"h1": ["agent", "buyer"]}}
AGENT_RECORD = {"_id": "ag1", "hub_id": "h1", "member_id": "g1"}


def make_group(agent=AGENT_RECORD, **fields):
    wanted = {"name": " Majelis Al-Hidayah ", "kind": "majelis_taklim", **fields}
    wanted.setdefault("agent_id", None if agent is None else agent["_id"])
    return without_events(channels.new_group(HUB, wanted, agent, COORDINATOR))


def without_events(document):
    document.pop(PENDING_EVENTS, None)
    return document


def product(product_id="p1", hub_id="h1"):
    return {"id": product_id, "code": "KRPK", "name": "Keripik", "price": 15_000, "hub_id": hub_id}


CONTACTS = [{"phone": "+6281234567890", "name": "Bu Aminah"}, {"phone": "+6281311112222"}]


def test_a_coordinator_appoints_a_member_as_agent_and_the_member_gains_the_role():
    agent = channels.new_agent(HUB, {"member_id": "g1", "commission_percent": 4}, True, COORDINATOR)
    assert events(agent) == [
        (
            "agent_appointed",
            {
                "agent_id": agent["_id"],
                "hub_id": "h1",
                "member_id": "g1",
                "commission_percent": 4,
                "appointed_by": "c1",
            },
        ),
        ("roles_changed", {"member_id": "g1"}),
    ]
    member = {"_id": "g1", "is_admin": False}
    membership = {"hub_id": "h1", "role": "buyer", "status": "approved"}
    actor = domain.actor(member, [membership], (), channels.agent_hubs(["h1"], ["h1"]))
    assert actor["roles"] == {"h1": ["agent", "buyer"]}


def test_an_agent_no_longer_a_member_of_the_hub_has_no_agent_role():
    assert channels.agent_hubs(["h1", "h2"], ["h2"]) == ["h2"]


@pytest.mark.parametrize(("percent", "allowed"), [(0, True), (10, True), (11, False)])
def test_an_agent_s_share_is_at_most_the_hub_s_commission(percent, allowed):
    fields = {"member_id": "g1", "commission_percent": percent}
    if allowed:
        assert channels.new_agent(HUB, fields, True, COORDINATOR)["commission_percent"] == percent
        return
    with pytest.raises(ValidationError) as refused:
        channels.new_agent(HUB, fields, True, COORDINATOR)
    assert "the hub's commission, 10" in refused.value.details["commission_percent"][0]


def test_only_an_approved_member_of_the_hub_can_be_its_agent():
    with pytest.raises(Conflict) as refused:
        channels.new_agent(HUB, {"member_id": "x", "commission_percent": 2}, False, COORDINATOR)
    assert refused.value.details["reason"] == ["not_a_member"]


@pytest.mark.parametrize("actor", [SELLER, OTHER_COORDINATOR, AGENT])
def test_only_the_hub_s_coordinator_appoints_agents(actor):
    with pytest.raises(Forbidden):
        channels.new_agent(HUB, {"member_id": "g1", "commission_percent": 2}, True, actor)


def test_a_group_s_agent_must_be_an_agent_of_its_hub():
    other_hub_agent = {"_id": "ag9", "hub_id": "h2", "member_id": "g9"}
    for agent, agent_id in ((other_hub_agent, "ag9"), (None, "unknown")):
        with pytest.raises(ValidationError) as refused:
            make_group(agent=agent, agent_id=agent_id)
        assert "agent_id" in refused.value.details


def test_a_group_is_named_without_surrounding_spaces_and_knows_its_agent_s_member():
    group = make_group()
    assert (group["name"], group["agent_id"], group["agent_member_id"]) == (
        "Majelis Al-Hidayah",
        "ag1",
        "g1",
    )


@pytest.mark.parametrize(
    ("actor", "allowed"),
    [(COORDINATOR, True), (ADMIN, True), (AGENT, True), (OTHER_AGENT, False), (SELLER, False)],
)
def test_a_group_is_run_by_its_hub_s_coordinator_or_its_own_agent(actor, allowed):
    assert channels.runs_group(actor, make_group()) is allowed


def test_an_agent_suspended_from_the_hub_no_longer_runs_its_group():
    member_only = {"member_id": "g1", "is_admin": False, "roles": {}}
    assert channels.runs_group(member_only, make_group()) is False


@pytest.mark.parametrize(
    ("actor", "visible"),
    [(COORDINATOR, {}), (AGENT, {"agent_member_id": "g1"})],
)
def test_a_coordinator_lists_every_group_and_an_agent_their_own(actor, visible):
    assert channels.groups_visible(HUB, actor) == visible


def test_a_seller_lists_no_groups():
    with pytest.raises(Forbidden):
        channels.groups_visible(HUB, SELLER)


def test_a_new_contact_tells_who_added_it_to_which_group():
    group = make_group()
    contact = channels.new_contact(
        group, HUB, {"phone": "+6281234567890", "name": " "}, {"name": "Pak Agen"}, AGENT
    )
    assert contact["_id"] == f"{group['_id']}:+6281234567890"
    assert events(contact) == [
        (
            "contact_added",
            {
                "group_id": group["_id"],
                "group_name": "Majelis Al-Hidayah",
                "hub_id": "h1",
                "hub_name": "Simpul Pujon",
                "phone": "+6281234567890",
                "name": None,
                "added_by_name": "Pak Agen",
            },
        )
    ]


def test_an_agent_of_another_group_adds_no_contacts():
    with pytest.raises(Forbidden):
        channels.new_contact(make_group(), HUB, {"phone": "+6281234567890"}, {}, OTHER_AGENT)


def test_a_broadcast_goes_to_every_contact_with_the_products_it_names():
    group = make_group()
    now = datetime.datetime(2026, 11, 30, 18, tzinfo=datetime.UTC)
    broadcast = channels.new_broadcast(group, HUB, [product()], CONTACTS, AGENT, "key-1", now=now)
    assert (broadcast["day"], broadcast["contacts"], broadcast["orders"]) == ("2026-12-01", 2, 0)
    [(kind, data)] = events(broadcast)
    assert kind == "broadcast_requested"
    assert data["products"] == [{"id": "p1", "code": "KRPK", "name": "Keripik", "price": 15_000}]
    assert data["recipients"] == [
        {"phone": "+6281234567890", "name": "Bu Aminah"},
        {"phone": "+6281311112222", "name": None},
    ]


def test_a_broadcast_names_products_of_its_group_s_hub_only():
    with pytest.raises(ValidationError) as refused:
        channels.new_broadcast(make_group(), HUB, [product("p9", "h2")], CONTACTS, AGENT)
    assert "p9" in refused.value.details["product_ids"][0]


def test_a_group_without_contacts_gets_no_broadcast():
    with pytest.raises(Conflict) as refused:
        channels.new_broadcast(make_group(), HUB, [product()], [], AGENT)
    assert refused.value.details["reason"] == ["group_has_no_contacts"]


def test_only_the_same_member_s_retry_under_the_same_key_finds_today_s_broadcast():
    found = {"_id": "b1", "idempotency_key": "k", "requested_by": "g1"}
    assert channels.same_request(found, {"idempotency_key": "k", "requested_by": "g1"})
    assert not channels.same_request(found, {"idempotency_key": "k", "requested_by": "c1"})
    assert not channels.same_request(found, {"idempotency_key": None, "requested_by": "g1"})
    assert channels.already_sent(found).details["broadcast_id"] == ["b1"]
