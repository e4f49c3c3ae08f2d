"""One-time codes end to end (DESIGN §7): asked for through the gateway, read at the
local SMS provider, spent on a password reset through the gateway."""

import logging
import re
import uuid

import pytest

from services.common.envelope import utcnow
from services.common.mongo import database_name, mongo_client
from tests.support.api import DEFAULT_PASSWORD, e164, make_member, make_phone
from tests.support.community import ask_code, code_sms
from tests.support.community import codes_sent as codes_to
from tests.support.waiting import holds, wait_until

NEW_PASSWORD = "sandi-baru-desa-2"
CODE = re.compile(r"\b(\d{6})\b")


def reset(api, phone, code, password=NEW_PASSWORD):
    return api.post(
        "/api/v1/auth/password-reset",
        json={"phone": phone, "code": code, "new_password": password},
    )


def log_in(api, phone, password):
    return api.post("/api/v1/auth/token", json={"phone": phone, "password": password})


def registered(api, **overrides):
    member = make_member(**overrides)
    response = api.post("/api/v1/auth/register", json=member)
    assert response.status_code == 201, response.text
    return member


def wrong(code):
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_the_owner_locked_out_by_wrong_passwords_gets_back_in_with_a_code_by_sms(api, sms_sink):
    member = registered(api)
    phone = member["phone"]
    old_token = log_in(api, phone, DEFAULT_PASSWORD).json()["access_token"]
    as_before = {"Authorization": f"Bearer {old_token}"}
    assert api.get("/api/v1/me", headers=as_before).status_code == 200  # the gateway caches it
    statuses = [log_in(api, phone, "tebakan-penyerang").status_code for _ in range(6)]
    assert statuses[-1] == 429
    assert log_in(api, phone, DEFAULT_PASSWORD).status_code == 429  # the owner, locked out

    asked = ask_code(api, phone)
    assert asked.status_code == 202 and asked.json() == {"accepted": True}
    [code] = codes_to(sms_sink, phone)
    done = reset(api, phone, code)

    assert done.status_code == 200, done.text
    assert done.json()["reset"] is True
    assert log_in(api, phone, NEW_PASSWORD).status_code == 200
    assert log_in(api, phone, DEFAULT_PASSWORD).status_code == 401
    stale = api.get("/api/v1/me", headers=as_before)
    assert stale.status_code == 401 and "reset" in stale.json()["error"]["message"]


def test_the_code_goes_by_sms_in_the_members_language_whatever_channel_they_prefer(api, sms_sink):
    member = registered(api, language="en", preferred_channel="email", email="ani@contoh.id")
    assert ask_code(api, member["phone"]).status_code == 202
    [sms] = wait_until(lambda: code_sms(sms_sink, member["phone"]), message="the SMS")
    assert sms["message"].startswith(CODE.search(sms["message"]).group(1) + " is your KOMPOR")
    assert "10 minutes" in sms["message"]


def test_the_members_list_and_the_logs_never_show_the_code(api, sms_sink, caplog):
    caplog.set_level(logging.DEBUG)
    member = registered(api)
    client = api.login(member["phone"])
    assert ask_code(api, member["phone"]).status_code == 202
    [code] = codes_to(sms_sink, member["phone"])

    def listed():
        items = client.get("/api/v1/notifications").json()["items"]
        return [item for item in items if item["template"] == "one_time_code"]

    [shown] = wait_until(listed, message="the code's notification in the member's list")
    assert code not in shown["text"] and "******" in shown["text"]
    assert reset(api, member["phone"], code).status_code == 200
    assert not [record for record in caplog.records if code in record.getMessage()]


def test_a_code_is_spent_by_its_first_use(api, sms_sink):
    member = registered(api)
    assert ask_code(api, member["phone"]).status_code == 202
    [code] = codes_to(sms_sink, member["phone"])
    assert reset(api, member["phone"], code).status_code == 200

    again = reset(api, member["phone"], code, password="sandi-ketiga-desa-3")

    assert again.status_code == 400
    assert "ask for a new one" in again.json()["error"]["details"]["code"][0]
    assert log_in(api, member["phone"], NEW_PASSWORD).status_code == 200


def test_five_wrong_codes_void_the_code(api, sms_sink):
    member = registered(api)
    assert ask_code(api, member["phone"]).status_code == 202
    [code] = codes_to(sms_sink, member["phone"])
    answers = [reset(api, member["phone"], wrong(code)) for _ in range(5)]
    assert [answer.status_code for answer in answers] == [400] * 5
    details = [answer.json()["error"]["details"]["code"][0] for answer in answers]
    assert details[0].startswith("Wrong code; 4 tries left") and "1 try left" in details[3]
    assert details[4].startswith("Void after 5 wrong tries")

    right_too_late = reset(api, member["phone"], code)

    assert right_too_late.status_code == 400
    assert "ask for a new one" in right_too_late.json()["error"]["details"]["code"][0]
    assert log_in(api, member["phone"], DEFAULT_PASSWORD).status_code == 200


@pytest.mark.parametrize("known", [True, False], ids=["member's phone", "unknown phone"])
def test_the_fourth_code_within_the_hour_is_refused_naming_the_phone(api, sms_sink, known):
    phone = registered(api)["phone"] if known else make_phone()
    assert [ask_code(api, phone).status_code for _ in range(3)] == [202] * 3

    fourth = ask_code(api, phone)

    assert fourth.status_code == 429
    assert 3500 < int(fourth.headers["Retry-After"]) <= 3601
    assert "phone" in fourth.json()["error"]["details"]
    if known:
        assert len(set(codes_to(sms_sink, phone, 3))) == 3
        holds(lambda: len(code_sms(sms_sink, phone)) == 3, 1.0, message="three codes only")


def test_an_unknown_phone_is_answered_as_a_members_and_nothing_is_sent(api, sms_sink):
    member_phone, unknown_phone = registered(api)["phone"], make_phone()
    for_member, for_nobody = ask_code(api, member_phone), ask_code(api, unknown_phone)
    assert (for_nobody.status_code, for_nobody.json()) == (
        for_member.status_code,
        for_member.json(),
    )
    codes_to(sms_sink, member_phone)
    holds(lambda: not sms_sink.to(e164(unknown_phone)), 1.0, message="nothing sent")
    guess = reset(api, unknown_phone, "123456")
    assert guess.status_code == 400 and "code" in guess.json()["error"]["details"]


def test_a_retry_under_the_same_idempotency_key_sends_no_second_code(api, sms_sink):
    member = registered(api)
    key = {"Idempotency-Key": str(uuid.uuid4())}
    answers = [ask_code(api, member["phone"], **key) for _ in range(4)]
    assert [answer.status_code for answer in answers] == [202] * 4
    codes_to(sms_sink, member["phone"])
    holds(lambda: len(code_sms(sms_sink, member["phone"])) == 1, 1.0, message="one code only")
    assert ask_code(api, member["phone"]).status_code == 202  # a new request still counts


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/auth/otp", {"phone": "12", "purpose": "reset_password"}, "phone"),
        ("/api/v1/auth/otp", {"phone": "0812-3456-7890", "purpose": "login"}, "purpose"),
        ("/api/v1/auth/otp", {"phone": "0812-3456-7890"}, "purpose"),
        (
            "/api/v1/auth/password-reset",
            {"phone": "0812-3456-7890", "code": "12a456", "new_password": NEW_PASSWORD},
            "code",
        ),
        (
            "/api/v1/auth/password-reset",
            {"phone": "0812-3456-7890", "code": "123456", "new_password": "pendek"},
            "new_password",
        ),
        (
            "/api/v1/auth/password-reset",
            {"phone": "not a phone", "code": "123456", "new_password": NEW_PASSWORD},
            "phone",
        ),
    ],
)
def test_bad_input_is_a_400_naming_the_field(api, path, body, field):
    response = api.post(path, json=body)
    assert response.status_code == 400, response.text
    assert field in response.json()["error"]["details"]


def test_a_member_without_a_password_never_logs_in_until_a_code_sets_one(api, sms_sink, stack):
    phone = make_phone()
    community = mongo_client(stack.config)[database_name("community")]
    community.members.insert_one(
        {
            "_id": uuid.uuid4().hex,
            "name": "Pak Darto",
            "phone": e164(phone),
            "email": None,
            "preferred_channel": "sms",
            "language": "id",
            "password_hash": None,  # registered by SMS: no password yet
            "is_admin": False,
            "created_at": utcnow(),
            "version": 1,
            "outbox": [],
        }
    )
    for password in ("", DEFAULT_PASSWORD, "None", "null"):
        assert log_in(api, phone, password).status_code == 401

    assert ask_code(api, phone).status_code == 202
    [code] = codes_to(sms_sink, phone)
    assert "kode KOMPOR DESA" in code_sms(sms_sink, phone)[0]["message"]
    assert reset(api, phone, code).status_code == 200

    assert log_in(api, phone, NEW_PASSWORD).status_code == 200
