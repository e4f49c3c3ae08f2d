"""Shared building blocks: tokens, phones, config, schemas, the gateway's error table."""

import base64
import concurrent.futures
import datetime
import os
import stat
import threading
import typing

import pytest
from kombu.exceptions import OperationalError as KombuOperationalError
from marshmallow import fields
from nameko.exceptions import BadRequest as NamekoBadRequest
from nameko.exceptions import UnknownService
from werkzeug.exceptions import NotFound as HttpNotFound
from werkzeug.exceptions import RequestEntityTooLarge

from services.common import config as cfg
from services.common import envelope, errors
from services.common.auth import TokenSigner
from services.common.phone import normalise_mobile, normalise_phone
from services.common.remote import TimedMethod
from services.common.schemas import PageSchema, Schema, representable_in_utc
from services.gateway.http import to_api_error


def test_a_token_names_its_member_until_it_expires():
    signer = TokenSigner(b"k", ttl=60)
    token = signer.issue("member-1", now=1000)
    assert signer.verify(token, now=1030) == ("member-1", 30)
    with pytest.raises(errors.Unauthenticated, match="expired"):
        signer.verify(token, now=1060)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t + "x",
        lambda t: t.replace(".", ".A", 1),
        lambda t: "A" + t[1:],
        lambda t: "no-dot",
        lambda t: "",
    ],
)
def test_a_tampered_token_is_refused(mangle):
    signer = TokenSigner(b"k", ttl=60)
    with pytest.raises(errors.Unauthenticated):
        signer.verify(mangle(signer.issue("member-1")))


@pytest.mark.parametrize(
    "token",
    ["\xe9t\xe9.sign\xe9", "\xff\xfe.\x80", "a.\u00e9", "\ud800.x", None, 42, ["a", "b"]],
)
def test_a_token_of_any_text_or_none_is_refused_as_unauthenticated(token):
    with pytest.raises(errors.Unauthenticated):
        TokenSigner(b"k", ttl=60).verify(token)


@pytest.mark.parametrize("claims", [b"not json", b'{"sub": "m"}', b"[1]", b'{"exp": "soon"}'])
def test_a_signed_token_without_proper_claims_is_refused(claims):
    signer = TokenSigner(b"k", ttl=60)
    payload = base64.urlsafe_b64encode(claims).rstrip(b"=").decode()
    with pytest.raises(errors.Unauthenticated):
        signer.verify(f"{payload}.{signer._sign(payload)}")


def test_a_token_signed_with_another_key_is_refused():
    token = TokenSigner(b"other", ttl=60).issue("member-1")
    with pytest.raises(errors.Unauthenticated):
        TokenSigner(b"k", ttl=60).verify(token)


@pytest.mark.parametrize(
    "local",
    ["0812-3456-7890", "081234567890", "6281234567890", "+62 812 3456 7890", "(0812) 3456 7890"],
)
def test_local_phone_forms_become_e164(local):
    assert normalise_phone(local) == "+6281234567890"


@pytest.mark.parametrize("bad", ["", "12", "phone", "0812", "+62 000 0000 0000"])
def test_what_is_not_a_phone_is_refused_with_an_example(bad):
    with pytest.raises(ValueError, match="0812-3456-7890"):
        normalise_phone(bad)


@pytest.mark.parametrize("mobile", ["0812-3456-7890", "+62 857 1234 5678", "0881234567"])
def test_an_indonesian_mobile_is_accepted(mobile):
    assert normalise_mobile(mobile) == normalise_phone(mobile)


@pytest.mark.parametrize(
    "landline_or_foreign", ["0341 123456", "+1 415 555 2671", "+60 12 345 6789"]
)
def test_a_landline_or_a_foreign_number_is_refused(landline_or_foreign):
    with pytest.raises(ValueError, match="Indonesian mobile"):
        normalise_mobile(landline_or_foreign)


def test_without_a_configured_key_one_is_generated_once_and_kept_private(tmp_path):
    config = {cfg.DATA_DIR_KEY: str(tmp_path)}
    first = cfg.secret_key(config)
    assert len(first) == 64 and cfg.secret_key(config) == first
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600


def test_a_configured_key_wins(tmp_path):
    key = "s3cret-" + "k" * 25
    assert (
        cfg.secret_key({cfg.SECRET_KEY_KEY: key, cfg.DATA_DIR_KEY: str(tmp_path)}) == key.encode()
    )
    assert not (tmp_path / "secret_key").exists()


def test_a_configured_key_shorter_than_32_characters_is_refused_without_echoing_it(tmp_path):
    with pytest.raises(ValueError, match="KOMPOR_SECRET_KEY is too short.*32") as refused:
        cfg.secret_key({cfg.SECRET_KEY_KEY: "s3cret-" + "k" * 24, cfg.DATA_DIR_KEY: str(tmp_path)})
    assert "s3cret" not in str(refused.value)


def test_replicas_generating_the_key_at_once_agree_on_one_and_leave_no_drafts(tmp_path):
    config = {cfg.DATA_DIR_KEY: str(tmp_path)}
    start = threading.Barrier(8)

    def generate():
        start.wait()
        return cfg.secret_key(config)

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        keys = list(pool.map(lambda _: generate(), range(8)))
    assert len(set(keys)) == 1 and len(keys[0]) == 64
    assert [path.name for path in tmp_path.iterdir()] == ["secret_key"]
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600


def test_the_key_is_drafted_under_a_name_no_other_replica_uses(tmp_path):
    # replicas in containers often share a pid; one's draft must not be another's
    foreign = tmp_path / f"secret_key.{os.getpid()}"
    foreign.write_text("another replica's draft")
    cfg.secret_key({cfg.DATA_DIR_KEY: str(tmp_path)})
    assert foreign.read_text() == "another replica's draft"
    assert (tmp_path / "secret_key").read_text() != "another replica's draft"


def test_the_key_is_private_from_its_first_byte(tmp_path, monkeypatch):
    opened = []
    real_open = os.open

    def recording_open(path, flags, mode=0o777, **kwargs):
        opened.append((flags, mode))
        return real_open(path, flags, mode, **kwargs)

    monkeypatch.setattr(os, "open", recording_open)
    cfg.secret_key({cfg.DATA_DIR_KEY: str(tmp_path)})
    # created exclusively with mode 0600: never readable by others, not even briefly
    assert any(flags & os.O_EXCL and flags & os.O_CREAT and mode == 0o600 for flags, mode in opened)


def test_retry_delays_read_from_a_comma_list():
    assert cfg.retry_delays({cfg.RETRY_DELAYS_KEY: "1, 2.5,10"}) == (1.0, 2.5, 10.0)
    assert cfg.retry_delays({}) == cfg.DEFAULT_RETRY_DELAYS


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"page": "0"}, "page"),
        ({"page_size": "101"}, "page_size"),
        ({"page": "x"}, "page"),
        ({"page": "9" * 21}, "page"),
        ({"page": "10001"}, "page"),
        ({"page_size": "-" + "9" * 30}, "page_size"),
        ({"$gt": "1"}, "$gt"),
    ],
)
def test_pagination_limits_are_enforced(query, field):
    with pytest.raises(errors.ValidationError) as raised:
        PageSchema().load_or_raise(query)
    assert field in raised.value.details


def test_a_shared_schema_is_made_once_and_answers_each_call_on_its_own():
    shared = PageSchema.shared()
    assert PageSchema.shared() is shared and PageSchema.shared(many=True) is not shared
    assert shared.load_or_raise({"page": "2"}) == {"page": 2, "page_size": 20}
    with pytest.raises(errors.ValidationError):
        shared.load_or_raise({"page": "0"})
    assert shared.load_or_raise({}) == {"page": 1, "page_size": 20}  # nothing kept
    assert PageSchema.shared(many=True).load_or_raise([{}]) == [{"page": 1, "page_size": 20}]


@pytest.mark.parametrize(
    ("starts_at", "valid"),
    [
        ("2026-12-01T09:00:00+07:00", True),
        ("9999-12-31T23:00:00-05:00", False),  # past the calendar's end once in UTC
        ("0001-01-01T00:00:00+05:00", False),
        ("9999-12-31T00:00:00Z", False),  # no day to spare
    ],
)
def test_a_time_must_stay_within_the_calendar_once_in_utc(starts_at, valid):
    class Moment(Schema):
        at = fields.AwareDateTime(default_timezone=datetime.UTC, validate=representable_in_utc)

    if valid:
        assert Moment().load_or_raise({"at": starts_at})["at"].year == 2026
    else:
        with pytest.raises(errors.ValidationError):
            Moment().load_or_raise({"at": starts_at})


@pytest.mark.parametrize(
    ("raised", "status", "code"),
    [
        (errors.ValidationError("x"), 400, "VALIDATION_ERROR"),
        (errors.Unauthenticated("x"), 401, "UNAUTHENTICATED"),
        (errors.Forbidden("x"), 403, "FORBIDDEN"),
        (errors.NotFound("x"), 404, "NOT_FOUND"),
        (errors.Conflict("x"), 409, "CONFLICT"),
        (errors.PayloadTooLarge("x"), 413, "PAYLOAD_TOO_LARGE"),
        (errors.RateLimited("x"), 429, "RATE_LIMITED"),
        (errors.ServiceUnavailable("x"), 503, "SERVICE_UNAVAILABLE"),
        (NamekoBadRequest("bad"), 400, "VALIDATION_ERROR"),
        (RequestEntityTooLarge(), 413, "PAYLOAD_TOO_LARGE"),
        (HttpNotFound(), 404, "NOT_FOUND"),
    ],
)
def test_the_error_table_maps_each_failure_to_its_status(raised, status, code):
    error = to_api_error(raised)
    assert (error.status, error.to_dict()["error"]["code"]) == (status, code)


def test_an_unexpected_error_is_not_mapped_so_it_becomes_a_plain_500():
    assert to_api_error(KeyError("boom")) is None


def test_service_errors_cross_rpc_as_themselves_with_details():
    from nameko.exceptions import deserialize, serialize

    from services.community.exceptions import PhoneAlreadyRegistered

    original = PhoneAlreadyRegistered("taken", {"phone": ["Already registered."]})
    copy = deserialize(serialize(original))
    assert type(copy) is PhoneAlreadyRegistered
    assert copy.details == {"phone": ["Already registered."]} and copy.status == 409


@pytest.mark.parametrize(
    "failure",
    [
        KombuOperationalError("broker away"),
        UnknownService("orders"),
        ConnectionResetError("reset"),
    ],
)
def test_an_rpc_that_cannot_reach_its_service_becomes_503(failure):
    class Unreachable:
        def call_async(self, *args, **kwargs):
            raise failure

    with pytest.raises(errors.ServiceUnavailable, match="orders service"):
        TimedMethod(Unreachable(), "orders", timeout=1)()


class Shape(typing.TypedDict):
    thing_id: str
    name: str
    note: typing.NotRequired[str]


def test_an_event_payload_holds_exactly_its_contract_s_fields():
    document = {"_id": "t1", "name": "Keripik", "secret": "kept out", "note": "pedas"}
    assert envelope.payload(Shape, document, thing_id=document["_id"]) == {
        "thing_id": "t1",
        "name": "Keripik",
        "note": "pedas",
    }
    assert envelope.payload(Shape, {"name": "Keripik"}, thing_id="t2") == {
        "thing_id": "t2",
        "name": "Keripik",
    }
    with pytest.raises(KeyError):
        envelope.payload(Shape, {"thing_id": "t3"})
