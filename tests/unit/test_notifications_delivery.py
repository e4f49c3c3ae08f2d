"""The courier over the real repository (in-memory store) and the real channels
against local providers: persisted first, sent once, fallen back, retried."""

import datetime
import time
import traceback
import uuid

import pytest
import requests
from nameko.testing.utils import find_free_port

from services.common.envelope import utcnow
from services.common.mongo import mongo_client
from services.notifications import domain
from services.notifications.channels import (
    HttpChannel,
    LoggedSms,
    Postbox,
    SmtpChannel,
    provider_session,
)
from services.notifications.delivery import Courier
from services.notifications.domain import DeliveryPolicy, Message
from services.notifications.exceptions import ChannelNotConfigured, DeliveryFailed
from services.notifications.repository import NotificationsRepository
from tests.support.notifications import make_contact
from tests.support.providers import BrokenProvider
from tests.support.sink import HttpSink
from tests.support.smtp import SmtpSink


class FakeChannel:
    def __init__(self, error=None, on_send=None):
        self.sent = []
        self.error = error
        self.on_send = on_send

    def send(self, to, text, subject=None, message_id=None):
        if self.on_send:
            self.on_send(to)
        if self.error:
            raise self.error
        self.sent.append({"to": to, "text": text, "subject": subject})


@pytest.fixture
def store():
    db = mongo_client({"MONGO_URI": f"memory://{uuid.uuid4().hex}"})["kompor_notifications"]
    return NotificationsRepository(db)


@pytest.fixture
def sms():
    return FakeChannel()


@pytest.fixture
def whatsapp():
    return FakeChannel()


@pytest.fixture
def email():
    return FakeChannel()


@pytest.fixture
def courier(store, sms, whatsapp, email):
    channels = {"sms": sms, "whatsapp": whatsapp, "email": email}
    return Courier(store, Postbox(channels, DeliveryPolicy(base_delay=60, max_attempts=3)))


def known(store, **overrides):
    contact = domain.contact_from(make_contact(**overrides))
    store.save_contact(contact, "2026-11-27T10:00:00.000Z")
    return contact


def event():
    return {"event_id": str(uuid.uuid4()), "occurred_at": "2026-11-27T10:00:00.000Z", "data": {}}


def welcome(contact):
    return [Message(contact["_id"], "welcome", {})]


def log(store, contact):
    [notification] = store.list_for(contact["_id"], 1, 10)[0]
    return notification


def make_due(store):
    past = utcnow() - datetime.timedelta(seconds=1)
    store.db.notifications.update_many({}, {"$set": {"next_attempt_at": past}})


def test_a_notification_is_in_the_log_before_it_is_sent(store, courier, sms):
    contact = known(store)
    seen_before_sending = []
    sms.on_send = lambda to: seen_before_sending.append(log(store, contact)["status"])
    courier.notify(event(), welcome(contact))
    assert seen_before_sending == [domain.QUEUED]
    assert log(store, contact)["status"] == domain.SENT


def test_a_message_sent_at_once_is_written_twice_stored_claimed_then_sent(
    store, courier, sms, monkeypatch
):
    contact = known(store)
    writes = []
    collection = type(store.db.notifications)
    for method in ("insert_one", "update_one", "update_many", "find_one_and_update"):
        write = getattr(collection, method)

        def counted(documents, *args, _write=write, _method=method, **kwargs):
            if documents.name == "notifications":
                writes.append(_method)
            return _write(documents, *args, **kwargs)

        monkeypatch.setattr(collection, method, counted)
    courier.notify(event(), welcome(contact))
    assert len(sms.sent) == 1 and log(store, contact)["status"] == domain.SENT
    assert writes == ["insert_one", "update_one"]


def test_the_same_event_for_the_same_member_is_sent_once(store, courier, sms):
    contact = known(store)
    same = event()
    courier.notify(same, welcome(contact))
    courier.notify(same, welcome(contact))
    make_due(store)
    assert courier.deliver_due() == 0
    assert len(sms.sent) == 1 and store.list_for(contact["_id"], 1, 10)[1] == 1


def test_a_failing_preferred_channel_falls_back_to_sms(store, courier, sms, whatsapp):
    contact = known(store, preferred_channel="whatsapp")
    whatsapp.error = DeliveryFailed("provider answered 503")
    courier.notify(event(), welcome(contact))
    notification = log(store, contact)
    assert [m["to"] for m in sms.sent] == [contact["phone"]]
    assert notification["delivered_via"] == "sms" and notification["status"] == domain.SENT
    assert notification["last_error"] == "whatsapp: provider answered 503"


def test_a_member_without_email_on_the_email_channel_gets_sms(store, courier, sms, email):
    contact = known(store, preferred_channel="email", email=None)
    courier.notify(event(), welcome(contact))
    assert email.sent == [] and len(sms.sent) == 1
    assert log(store, contact)["last_error"] == "email: the member has no email address"


def test_email_gets_a_subject_and_the_message(store, courier, sms, email):
    contact = known(store, preferred_channel="email", email="siti@desa.id", language="en")
    courier.notify(event(), welcome(contact))
    assert sms.sent == []
    assert email.sent[0]["to"] == "siti@desa.id"
    assert email.sent[0]["subject"] == "Welcome to KOMPOR DESA"
    assert log(store, contact)["delivered_via"] == "email"


@pytest.mark.parametrize(
    ("channel", "note"),
    [
        (HttpChannel("whatsapp", None, None, None), "whatsapp: not configured"),
        (SmtpChannel(None), "email: not configured"),
    ],
)
def test_a_channel_without_configuration_is_noted_and_sms_used(store, sms, channel, note):
    courier = Courier(store, Postbox({"sms": sms, channel.name: channel}, DeliveryPolicy()))
    contact = known(store, preferred_channel=channel.name, email="siti@desa.id")
    courier.notify(event(), welcome(contact))
    assert len(sms.sent) == 1
    assert log(store, contact)["last_error"].startswith(note)


def test_sms_without_a_provider_is_only_logged_and_the_log_says_so(store):
    courier = Courier(store, Postbox({"sms": LoggedSms()}, DeliveryPolicy()))
    contact = known(store)
    courier.notify(event(), welcome(contact))
    notification = log(store, contact)
    assert notification["status"] == domain.SENT
    assert notification["last_error"] == "sms: no provider configured; only logged"


def test_a_channel_the_service_does_not_know_falls_back_to_sms(store, courier, sms):
    contact = known(store, preferred_channel="telegram")
    courier.notify(event(), welcome(contact))
    assert len(sms.sent) == 1
    assert "telegram" in log(store, contact)["last_error"]


def test_an_unexpected_provider_error_is_a_failed_attempt_not_a_crash(store, courier, sms):
    contact = known(store)
    sms.error = UnicodeError("surprise")
    courier.notify(event(), welcome(contact))
    notification = log(store, contact)
    assert notification["status"] == domain.QUEUED and notification["attempts"] == 1
    assert notification["last_error"] == "sms: unexpected UnicodeError"


def test_when_every_channel_fails_the_message_waits_for_its_next_try(store, courier, sms):
    contact = known(store)
    sms.error = DeliveryFailed("provider answered 500")
    courier.notify(event(), welcome(contact))
    notification = log(store, contact)
    assert notification["status"] == domain.QUEUED and notification["attempts"] == 1
    assert notification["next_attempt_at"] > utcnow() + datetime.timedelta(seconds=29)
    assert courier.deliver_due() == 0  # not due yet

    sms.error = None
    make_due(store)
    assert courier.deliver_due() == 1
    assert len(sms.sent) == 1 and log(store, contact)["attempts"] == 2


def test_all_messages_of_an_event_are_stored_before_any_is_sent(store, courier, sms):
    members = [known(store) for _ in range(3)]
    stored_when_sending = []
    sms.on_send = lambda to: stored_when_sending.append(store.db.notifications.count_documents({}))
    courier.notify(event(), [Message(m["_id"], "welcome", {}) for m in members])
    assert stored_when_sending == [3, 3, 3]


def test_a_provider_outage_leaves_the_rest_of_an_event_to_the_timer(store, courier, sms):
    members = [known(store) for _ in range(3)]
    sms.error = DeliveryFailed("provider timed out")
    courier.notify(event(), [Message(m["_id"], "training_scheduled", {}) for m in members])
    attempts = sorted(log(store, member)["attempts"] for member in members)
    assert attempts == [0, 0, 1]  # the handler stopped after the first failure

    sms.error = None
    assert courier.deliver_due() == 2  # the two untried are due at once
    make_due(store)
    assert courier.deliver_due() == 1
    assert sorted(m["to"] for m in sms.sent) == sorted(m["phone"] for m in members)


def test_after_the_last_attempt_the_log_says_failed_and_an_event_is_recorded(store, courier, sms):
    contact = known(store)
    sms.error = DeliveryFailed("provider answered 500")
    courier.notify(event(), welcome(contact))
    for _ in range(2):
        make_due(store)
        courier.deliver_due()
    notification = store.db.notifications.find_one({"recipient_id": contact["_id"]})
    assert notification["status"] == domain.FAILED and notification["attempts"] == 3
    assert [entry["type"] for entry in notification["outbox"]] == ["notification_failed"]
    make_due(store)
    assert courier.deliver_due() == 0  # given up


def test_a_message_for_a_member_not_known_yet_waits_for_their_contact(store, courier, sms):
    member_id = uuid.uuid4().hex
    courier.notify(event(), [Message(member_id, "welcome", {})])
    waiting = store.db.notifications.find_one({"recipient_id": member_id})
    assert waiting["status"] == domain.QUEUED and waiting["text"] is None
    assert waiting["last_error"] == domain.WAITING_FOR_CONTACT
    assert sms.sent == []

    contact = known(store, member_id=member_id, name="Budi", language="en")
    store.wake_waiting_for(member_id)
    assert courier.deliver_due() == 1
    assert sms.sent[0]["to"] == contact["phone"]
    assert sms.sent[0]["text"].startswith("Welcome to KOMPOR DESA, Budi!")


def test_a_claimed_notification_is_not_claimed_again(store, courier, sms):
    contact = known(store)
    sms.error = DeliveryFailed("down")
    courier.notify(event(), welcome(contact))
    make_due(store)
    first = store.claim()
    assert first is not None
    assert store.claim() is None  # another replica finds nothing to do


def test_an_older_contact_event_never_overwrites_a_newer_one(store):
    contact = domain.contact_from(make_contact(name="Baru"))
    store.save_contact(contact, "2026-11-27T10:00:01.000Z")
    store.save_contact({**contact, "name": "Lama"}, "2026-11-27T10:00:00.000Z")
    assert store.get_contact(contact["_id"])["name"] == "Baru"


def test_hub_members_are_the_approved_sellers_and_buyers_each_once(store):
    def member(member_id, role, status, hub="h"):
        membership = {"_id": uuid.uuid4().hex, "hub_id": hub, "member_id": member_id}
        store.save_membership({**membership, "role": role, "status": status}, "t")

    member("ani", "seller", "approved")
    member("ani", "buyer", "approved")
    member("budi", "buyer", "approved")
    member("citra", "seller", "pending")
    member("dewi", "seller", "rejected")
    member("eko", "seller", "approved", hub="other")
    store.save_membership(domain.coordinator_from({"hub_id": "h", "member_id": "koor"}), "t")
    assert sorted(store.members_of("h")) == ["ani", "budi"]
    assert store.coordinators_of("h") == ["koor"]


# --- the real channels against local providers --------------------------------------


def test_sms_goes_to_the_provider_as_json_with_the_bearer_token():
    with HttpSink() as sink:
        HttpChannel("sms", sink.url, "rahasia", requests.Session()).send("+6281", "Halo")
        assert sink.messages == [
            {
                "to": "+6281",
                "message": "Halo",
                "authorization": "Bearer rahasia",
                "idempotency_key": None,
            }
        ]


def test_messages_to_a_provider_go_over_one_connection_kept_alive():
    with HttpSink(keep_alive=True) as sink:
        channel = HttpChannel("sms", sink.url, None, provider_session(sink.url, connections=4))
        for text in ("Satu", "Dua", "Tiga"):
            channel.send("+6281", text)
        assert [m["message"] for m in sink.messages] == ["Satu", "Dua", "Tiga"]
        assert sink.connections == 1


def test_a_providers_session_takes_the_proxy_of_the_environment_once(monkeypatch):
    for name in ("https_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.desa.id:3128")
    session = provider_session("https://sms.example.id/send", connections=4)
    monkeypatch.setenv("HTTPS_PROXY", "http://elsewhere.id:3128")
    assert session.proxies["https"] == "http://proxy.desa.id:3128"
    assert session.trust_env is False  # nothing re-read from the environment per message


def test_every_try_of_a_message_carries_the_same_idempotency_key():
    """A kill between the provider's 2xx and recording it sends the message again:
    under the same key, so a provider that honours the header delivers it once."""
    notification = {"_id": "n1", "phone": "+6281", "text": "Halo", "subject": None}
    with HttpSink() as sink:
        postbox = Postbox(
            {"sms": HttpChannel("sms", sink.url, None, requests.Session())}, DeliveryPolicy()
        )
        postbox.send("sms", notification)
        postbox.send("sms", notification)
        postbox.send("sms", {**notification, "_id": "n2"})
    assert [m["idempotency_key"] for m in sink.messages] == ["n1.sms", "n1.sms", "n2.sms"]


def test_a_provider_answering_an_error_fails_the_attempt():
    with HttpSink() as sink:
        sink.fail_for(10)
        with pytest.raises(DeliveryFailed, match="provider answered 500"):
            HttpChannel("sms", sink.url, None, requests.Session()).send("+6281", "Halo")


@pytest.mark.parametrize(("mode", "error"), [("hang", "timed out"), ("reset", "unreachable")])
def test_a_provider_that_hangs_or_resets_fails_the_attempt_in_time(mode, error):
    with BrokenProvider(mode) as provider:
        channel = HttpChannel("sms", provider.url, None, requests.Session(), timeout=0.5)
        started = time.monotonic()
        with pytest.raises(DeliveryFailed, match=error):
            channel.send("+6281", "Halo")
        assert time.monotonic() - started < 3


def test_an_unreachable_provider_fails_the_attempt():
    url = f"http://127.0.0.1:{find_free_port()}/send"
    with pytest.raises(DeliveryFailed, match="unreachable"):
        HttpChannel("sms", url, None, requests.Session()).send("+6281", "Halo")


def test_email_is_sent_through_smtp_with_login_subject_and_sender():
    with SmtpSink() as sink:
        SmtpChannel(sink.url).send("siti@desa.id", "Pesanan KD-1 dikonfirmasi.", "Pesanan KD-1")
        assert sink.messages == [
            {
                "to": "siti@desa.id",
                "from": "kabar@kompordesa.id",
                "subject": "Pesanan KD-1",
                "body": "Pesanan KD-1 dikonfirmasi.",
            }
        ]
        assert sink.logins == [("kompor", "rahasia")]


def test_a_mail_server_refusing_for_now_fails_the_attempt():
    with SmtpSink() as sink:
        sink.fail_for(10)
        with pytest.raises(DeliveryFailed, match="451"):
            SmtpChannel(sink.url).send("siti@desa.id", "Halo", "Halo")


def test_an_unreachable_mail_server_fails_the_attempt():
    with pytest.raises(DeliveryFailed, match="unreachable"):
        SmtpChannel(f"smtp://127.0.0.1:{find_free_port()}", timeout=1).send("a@b.id", "x", "y")


@pytest.mark.parametrize("url", ["http://mail.desa.id", "smtp://", "mail.desa.id:25"])
def test_a_malformed_smtp_url_is_refused_at_start(url):
    with pytest.raises(ValueError, match="SMTP_URL"):
        SmtpChannel(url)


@pytest.mark.parametrize(
    "url",
    [
        "smtp://kompor:Rahasia-Surel-93@mail.desa.id:25x",
        "http://kompor:Rahasia-Surel-93@mail.desa.id",
        "smtp://kompor:Rahasia-Surel-93@:25",
        "kompor:Rahasia-Surel-93@mail.desa.id",
    ],
)
def test_a_malformed_smtp_url_is_reported_without_its_password(url):
    with pytest.raises(ValueError, match="SMTP_URL") as refused:
        SmtpChannel(url)
    # the whole traceback a failed start prints, chained exceptions included
    assert "Rahasia-Surel-93" not in "".join(traceback.format_exception(refused.value))


def test_credentials_are_never_sent_to_a_server_without_starttls():
    with SmtpSink(tls=None) as sink:
        with pytest.raises(DeliveryFailed, match="STARTTLS") as refused:
            SmtpChannel(sink.url).send("siti@desa.id", "Halo", "Halo")
        assert sink.logins == [] and sink.messages == []
        assert "rahasia" not in str(refused.value)


def test_without_credentials_a_server_without_starttls_is_used_as_it_is():
    with SmtpSink(tls=None) as sink:
        SmtpChannel(f"smtp://127.0.0.1:{sink.port}").send("siti@desa.id", "Halo", "Halo")
        assert [m["to"] for m in sink.messages] == ["siti@desa.id"]


def test_email_over_implicit_tls_is_sent_with_login():
    with SmtpSink(tls="implicit") as sink:
        SmtpChannel(sink.url).send("siti@desa.id", "Halo", "Halo")
        assert sink.logins == [("kompor", "rahasia")]
        assert [m["to"] for m in sink.messages] == ["siti@desa.id"]


@pytest.mark.parametrize("tls", ["starttls", "implicit"])
def test_a_mail_server_whose_certificate_is_not_trusted_gets_no_credentials(tls):
    with SmtpSink(tls=tls) as sink:
        untrusted = sink.url.split("&cafile=")[0]  # the system CAs do not know the test CA
        with pytest.raises(DeliveryFailed, match="certificate"):
            SmtpChannel(untrusted).send("siti@desa.id", "Halo", "Halo")
        assert sink.logins == [] and sink.messages == []


def test_an_email_refused_for_want_of_starttls_waits_for_its_retry_and_the_log_has_no_password(
    store, caplog
):
    with SmtpSink(tls=None) as sink:
        email = SmtpChannel(sink.url)
        sms = FakeChannel(error=DeliveryFailed("provider answered 503"))
        postbox = Postbox(
            {"sms": sms, "whatsapp": FakeChannel(), "email": email},
            DeliveryPolicy(base_delay=60, max_attempts=3),
        )
        contact = known(store, preferred_channel="email", email="siti@desa.id")
        Courier(store, postbox).notify(event(), welcome(contact))
    notification = log(store, contact)
    assert notification["status"] == domain.QUEUED and notification["attempts"] == 1
    assert "STARTTLS" in notification["last_error"]
    assert "STARTTLS" in caplog.text and "rahasia" not in caplog.text


def test_email_without_smtp_url_is_not_configured():
    with pytest.raises(ChannelNotConfigured):
        SmtpChannel(None).send("a@b.id", "x", "y")


# --- one-time codes ------------------------------------------------------------------


def code_issued(member_id="m-1", phone="+6281234567890", minutes=10, language="id"):
    expires_at = utcnow() + datetime.timedelta(minutes=minutes)
    return {
        **event(),
        "data": {
            "member_id": member_id,
            "phone": phone,
            "code": "042917",
            "purpose": "reset_password",
            "expires_at": expires_at.isoformat().replace("+00:00", "Z"),
            "language": language,
        },
    }


def test_a_code_goes_by_sms_to_its_phone_whatever_channel_the_member_prefers(
    store, courier, sms, email
):
    known(store, member_id="m-1", preferred_channel="email", email="ani@desa.id", language="id")
    courier.send_code(code_issued(phone="+6281299990000", language="en"))
    assert email.sent == []
    [sent] = sms.sent
    assert sent["to"] == "+6281299990000"
    assert sent["text"].startswith("042917 is your KOMPOR DESA code")


def test_a_code_needs_no_contact_and_is_sent_at_once(store, courier, sms):
    courier.send_code(code_issued(member_id="registered-a-moment-ago"))
    assert [m["text"][:6] for m in sms.sent] == ["042917"]


def test_once_sent_the_code_is_kept_nowhere_and_the_list_shows_it_hidden(store, courier, sms):
    courier.send_code(code_issued())
    [notification] = store.list_for("m-1", 1, 10)[0]
    assert notification["status"] == domain.SENT and notification["secret_text"] is None
    assert "042917" not in str(store.db.notifications.find_one({"_id": notification["_id"]}))
    assert notification["text"].startswith("****** adalah kode KOMPOR DESA")


def test_a_code_that_could_not_be_sent_before_it_expired_is_given_up(store, courier, sms):
    sms.error = DeliveryFailed("provider answered 503")
    courier.send_code(code_issued(minutes=0))
    [notification] = store.list_for("m-1", 1, 10)[0]
    assert notification["status"] == domain.FAILED and notification["attempts"] == 0
    assert notification["last_error"] == domain.CODE_EXPIRED
    assert notification["secret_text"] is None and sms.sent == []


def test_a_code_waiting_for_its_retry_goes_before_other_messages(store, courier, sms):
    contact = known(store)
    sms.error = DeliveryFailed("provider answered 503")
    courier.notify(event(), welcome(contact))
    courier.send_code(code_issued())
    make_due(store)
    store.db.notifications.update_many(
        {"template": "welcome"}, {"$set": {"next_attempt_at": utcnow() - datetime.timedelta(1)}}
    )
    sms.error = None
    courier.deliver_due(limit=1)
    assert [m["text"][:6] for m in sms.sent] == ["042917"]


def test_sms_without_a_provider_logs_the_code_hidden(store, caplog):
    courier = Courier(store, Postbox({"sms": LoggedSms()}, DeliveryPolicy()))
    with caplog.at_level("INFO"):
        courier.send_code(code_issued())
    assert "****** adalah kode" in caplog.text and "042917" not in caplog.text
