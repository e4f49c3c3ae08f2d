"""The one-time code rules, without a store, on a clock the test sets."""

import datetime
import json
import uuid

import pytest

from services.common.auth import TokenSigner, verify_password
from services.common.envelope import PENDING_EVENTS
from services.common.errors import Unauthenticated
from services.common.mongo import mongo_client
from services.community import domain, otp, throttling
from services.community.contract import OTP_ISSUED, RESET_PASSWORD
from services.community.exceptions import CodeLimitReached, CodeNotValid, WrongCode
from services.community.repository import CommunityRepository

KEY = otp.code_key(b"test-secret-of-at-least-32-characters")
PHONE = "+6281234567890"
MEMBER = {"_id": "m-1", "language": "en"}
START = datetime.datetime(2026, 12, 2, 3, 0, tzinfo=datetime.UTC)


def issued(code_record=None, now=START, member=MEMBER, code="042917", key=None):
    """The phone's record after a code was asked for, as the store keeps it (events
    go to the outbox, not into the record)."""
    changed, problem = otp.issue(
        code_record, PHONE, RESET_PASSWORD, member, KEY, idempotency_key=key, now=now, code=code
    )
    if problem is not None:
        raise problem
    if changed is not None:
        changed.pop(PENDING_EVENTS, None)
    return changed


def test_a_new_code_is_six_digits_with_its_leading_zeros():
    assert otp.new_code(lambda _: 42) == "000042"
    assert otp.new_code(lambda top: top - 1) == "999999"
    codes = {otp.new_code() for _ in range(200)}
    assert all(len(code) == 6 and code.isdigit() for code in codes) and len(codes) > 150


def test_the_record_keeps_the_codes_hmac_never_the_code():
    changed, _ = otp.issue(None, PHONE, RESET_PASSWORD, MEMBER, KEY, now=START, code="042917")
    [event] = changed.pop(PENDING_EVENTS)
    assert "042917" not in json.dumps(changed, default=str)
    assert changed["code_hash"] == otp.digest(KEY, PHONE, "042917")
    assert changed["code_hash"] != otp.digest(otp.code_key(b"another-secret"), PHONE, "042917")
    assert event["type"] == OTP_ISSUED
    assert event["data"] == {
        "member_id": "m-1",
        "phone": PHONE,
        "code": "042917",
        "purpose": RESET_PASSWORD,
        "expires_at": "2026-12-02T03:10:00.000Z",
        "language": "en",
    }


def test_the_same_code_for_another_phone_has_another_hash():
    assert otp.digest(KEY, PHONE, "042917") != otp.digest(KEY, "+6281234567891", "042917")


def test_a_phone_no_member_has_is_counted_and_gets_no_code():
    changed, _ = otp.issue(None, PHONE, RESET_PASSWORD, None, KEY, now=START)
    assert PENDING_EVENTS not in changed
    assert changed["code_hash"] is None and changed["issued"] == [START]


@pytest.mark.parametrize("member", [MEMBER, None], ids=["member", "unknown phone"])
def test_the_fourth_code_within_the_hour_is_refused_with_the_wait(member):
    code_record = None
    for minute in (0, 10, 20):
        code_record = issued(code_record, START + datetime.timedelta(minutes=minute), member)
    with pytest.raises(CodeLimitReached) as refused:
        issued(code_record, START + datetime.timedelta(minutes=30), member)
    assert refused.value.status == 429
    assert refused.value.details["retry_after"] == [str(30 * 60 + 1)]
    assert "phone" in refused.value.details
    an_hour_on = issued(code_record, START + otp.WINDOW, member)
    assert START not in an_hour_on["issued"] and len(an_hour_on["issued"]) == 3


def test_a_repeated_idempotency_key_sends_nothing_and_is_not_counted():
    code_record = issued(key="k-1")
    assert issued(code_record, START + datetime.timedelta(minutes=1), key="k-1") is None
    again = issued(code_record, START + datetime.timedelta(minutes=1), key="k-2")
    assert len(again["issued"]) == 2


def test_the_right_code_is_spent_by_its_first_use():
    code_record = issued()
    spent, problem = otp.redeem(code_record, PHONE, "042917", MEMBER, KEY, now=START)
    assert problem is None and spent["state"] == otp.SPENT
    written, problem = otp.redeem(spent, PHONE, "042917", MEMBER, KEY, now=START)
    assert written is None and isinstance(problem, CodeNotValid)
    assert "code" in problem.details and "ask for a new one" in problem.message


def test_a_code_expires_after_ten_minutes():
    code_record = issued()
    almost = START + otp.CODE_TTL - datetime.timedelta(milliseconds=1)
    assert otp.redeem(code_record, PHONE, "042917", MEMBER, KEY, now=almost)[1] is None
    written, problem = otp.redeem(code_record, PHONE, "042917", MEMBER, KEY, START + otp.CODE_TTL)
    assert written is None and isinstance(problem, CodeNotValid)


def test_wrong_codes_say_how_many_tries_are_left_and_the_fifth_voids_it():
    code_record = issued()
    for left in (4, 3, 2, 1):
        code_record, problem = otp.redeem(code_record, PHONE, "111111", MEMBER, KEY, now=START)
        assert isinstance(problem, WrongCode) and problem.status == 400
        assert f"{left} tr" in problem.details["code"][0]
    code_record, problem = otp.redeem(code_record, PHONE, "111111", MEMBER, KEY, now=START)
    assert code_record["state"] == otp.VOID and "void" in problem.details["code"][0].lower()
    written, problem = otp.redeem(code_record, PHONE, "042917", MEMBER, KEY, now=START)
    assert written is None and isinstance(problem, CodeNotValid)


def test_a_new_code_replaces_the_last_one_and_its_wrong_tries():
    first = issued()
    first, _ = otp.redeem(first, PHONE, "111111", MEMBER, KEY, now=START)
    second = issued(first, START + datetime.timedelta(minutes=1), code="654321")
    assert second["wrong"] == 0
    assert isinstance(otp.redeem(second, PHONE, "042917", MEMBER, KEY, START)[1], WrongCode)
    assert otp.redeem(second, PHONE, "654321", MEMBER, KEY, START)[1] is None


@pytest.mark.parametrize(
    "member", [None, {"_id": "someone-else", "language": "id"}], ids=["no member", "another"]
)
def test_a_code_works_only_for_the_member_it_was_sent_to(member):
    written, problem = otp.redeem(issued(), PHONE, "042917", member, KEY, now=START)
    assert written is None and isinstance(problem, CodeNotValid)


def test_a_phone_that_never_asked_has_no_code_to_try():
    written, problem = otp.redeem(None, PHONE, "042917", MEMBER, KEY, now=START)
    assert written is None and isinstance(problem, CodeNotValid)
    unknown = issued(member=None)
    assert isinstance(otp.redeem(unknown, PHONE, "000000", MEMBER, KEY, START)[1], CodeNotValid)


@pytest.mark.parametrize("password_hash", [None, ""])
def test_a_member_without_a_password_never_logs_in_with_any(password_hash):
    assert verify_password(password_hash, "") is False
    assert verify_password(password_hash, "rahasia-desa-1") is False


def test_a_token_issued_before_a_password_reset_is_refused():
    signer = TokenSigner(b"test-secret-of-at-least-32-characters", 3600)
    before = signer.claims(signer.issue("m-1"))
    member = {"_id": "m-1"}
    domain.check_token_current(member, before["gen"])
    member["token_generation"] = 1  # what a reset does
    with pytest.raises(Unauthenticated):
        domain.check_token_current(member, before["gen"])
    after = signer.claims(signer.issue("m-1", generation=1))
    domain.check_token_current(member, after["gen"])


# --- over the store: each try is one conditional write -------------------------------


@pytest.fixture
def store():
    db = mongo_client({"MONGO_URI": f"memory://{uuid.uuid4().hex}"})["kompor_community"]
    for collection, models in CommunityRepository.indexes.items():
        db[collection].create_indexes(models)
    return CommunityRepository(db)


def test_wrong_tries_that_race_are_each_counted(store):
    store.change_code(PHONE, lambda found: otp.issue(found, PHONE, RESET_PASSWORD, MEMBER, KEY))
    raced = []

    def wrong_try_overtaken_once(found):
        if not raced:  # another try is written between this one's read and its write
            raced.append(True)
            with pytest.raises(WrongCode):
                store.change_code(PHONE, lambda f: otp.redeem(f, PHONE, "111111", MEMBER, KEY))
        return otp.redeem(found, PHONE, "111111", MEMBER, KEY)

    with pytest.raises(WrongCode) as answered:
        store.change_code(PHONE, wrong_try_overtaken_once)
    assert "3 tries left" in answered.value.details["code"][0]
    assert store.db.one_time_codes.find_one({"_id": PHONE})["wrong"] == 2


def test_a_code_used_twice_at_once_is_spent_once(store):
    code_record = store.change_code(
        PHONE, lambda found: otp.issue(found, PHONE, RESET_PASSWORD, MEMBER, KEY, code="042917")
    )
    assert code_record is not None
    spent = []

    def right_code_overtaken_once(found):
        if not spent:
            spent.append(
                store.change_code(PHONE, lambda f: otp.redeem(f, PHONE, "042917", MEMBER, KEY))
            )
        return otp.redeem(found, PHONE, "042917", MEMBER, KEY)

    with pytest.raises(CodeNotValid):
        store.change_code(PHONE, right_code_overtaken_once)
    assert spent[0]["state"] == otp.SPENT


def test_a_reset_clears_the_phones_lockouts_and_keeps_the_addresses(store):
    for key in (
        throttling.phone_key(PHONE),
        throttling.pair_key(PHONE, "192.0.2.1"),
        throttling.pair_key(PHONE, "2001:db8::/64"),
        throttling.pair_key("+6281234567891", "192.0.2.1"),
        "address:192.0.2.1",
    ):
        store.db.login_attempts.insert_one({"_id": key, "failures": 9, "updated_at": START})
    store.clear_login_throttling(PHONE)
    left = sorted(doc["_id"] for doc in store.db.login_attempts.find())
    assert left == ["address:192.0.2.1", throttling.pair_key("+6281234567891", "192.0.2.1")]
