import datetime

import pytest

from services.common.envelope import PENDING_EVENTS, utcnow
from services.community import domain
from services.community.exceptions import TooManyAttempts


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
