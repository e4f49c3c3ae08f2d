"""Posting text messages to the gateway as an SMS or WhatsApp provider would: signed
with the shared secret (``services.common.webhooks``), and reading our replies at the
provider stand-in (``tests.support.sink.HttpSink``)."""

import itertools
import json
import threading
import time
import uuid

import requests

from services.common import webhooks
from services.messaging import replies
from tests.support.api import Api, e164, make_phone
from tests.support.waiting import wait_until

INBOUND_WEBHOOK_SECRET = "inbound-secret-for-tests-only"
_sequence = itertools.count(1)


def provider_id():
    return f"SM{next(_sequence)}{uuid.uuid4().hex[:10]}"


def signed_post(
    api,
    body,
    channel="sms",
    secret=INBOUND_WEBHOOK_SECRET,
    timestamp=None,
    signature=None,
    raw=None,
):
    """``POST /api/v1/inbound/<channel>`` with ``body`` (or ``raw`` bytes) signed under
    ``secret`` (with ``timestamp`` when given); ``signature`` overrides the header."""
    data = raw if raw is not None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if timestamp is not None:
        headers[webhooks.TIMESTAMP_HEADER] = str(timestamp)
    stamp = None if timestamp is None else str(timestamp)
    sign = signature if signature is not None else webhooks.sign(data, secret, stamp)
    if sign:
        headers[webhooks.SIGNATURE_HEADER] = sign
    return api.post(f"/api/v1/inbound/{channel}", data=data, headers=headers)


def inbound_body(text="BANTUAN"):
    """A provider's body from a fresh phone."""
    return {"id": provider_id(), "from": make_phone(), "text": text}


def signed_parts(body, secret=INBOUND_WEBHOOK_SECRET):
    """``{"json": body, "headers": {signature}}`` for a request whose client encodes
    ``body`` as ``json.dumps`` does (``requests``' ``json=``)."""
    raw = json.dumps(body).encode()
    return {"json": body, "headers": {webhooks.SIGNATURE_HEADER: webhooks.sign(raw, secret)}}


class Phone:
    """A member's basic phone: ``phone.send("CARI keripik")`` posts a text as the
    provider would; ``phone.expect("found", products=[…])`` waits for our reply of that
    key (rendered by ``replies.render``, exactly as the member reads it) at the sink."""

    def __init__(self, api, sink, number=None, channel="sms", language="id"):
        self.api = api
        self.sink = sink
        self.local = number or make_phone()
        self.number = e164(self.local)
        self.channel = channel
        self.language = language
        self.taken = []  # indexes of the sink's messages an ``expect`` consumed

    def send(self, text, message_id=None, timestamp=None):
        """Post ``text`` from this phone; returns the provider id used."""
        body = {"id": message_id or provider_id(), "from": self.local, "text": text}
        if timestamp is None:
            timestamp = int(time.time())
        response = signed_post(self.api, body, self.channel, timestamp=timestamp)
        assert response.status_code == 200, response.text
        assert response.json() == {"accepted": True}
        return body["id"]

    def inbox(self):
        """Every text we sent to this phone, oldest first."""
        return [message["message"] for message in self.sink.to(self.number)]

    def expect(self, key, language=None, timeout=15, **values):
        """Wait for our reply ``key`` with ``values`` (not yet consumed); returns it."""
        text = replies.render(key, language or self.language, **values)
        return self.expect_text(text, timeout)

    def expect_text(self, text, timeout=15):
        def unread():
            return [i for i, t in enumerate(self.inbox()) if t == text and i not in self.taken]

        wait_until(
            lambda: unread(),
            timeout=timeout,
            message=f"{text!r} at {self.number}; got {self.inbox()}",
        )
        self.taken.append(unread()[0])
        return text

    def count(self, key, language=None, **values):
        text = replies.render(key, language or self.language, **values)
        return self.inbox().count(text)

    def ask(self, text, key, **values):
        """Send ``text`` and wait for the reply ``key`` with ``values``."""
        self.send(text)
        return self.expect(key, **values)


class Provider:
    """An SMS provider posting ``BANTUAN`` from a new phone every ``interval`` seconds
    in a thread, each retried with the same id until it is accepted (as providers do on
    a 5xx or a timeout); ``all_answered()`` once every phone has our reply."""

    def __init__(self, api, sink, interval=0.1, give_up_after=120):
        self.api = Api(api.base_url, timeout=10)
        self.sink = sink
        self.interval = interval
        self.give_up_after = give_up_after
        self.phones = []
        self.retries = 0
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stopping.set()
        self._thread.join(timeout=self.give_up_after + 30)

    def _run(self):
        while not self._stopping.is_set():
            phone = Phone(self.api, self.sink)
            body = {"id": provider_id(), "from": phone.local, "text": "BANTUAN"}
            deadline = time.monotonic() + self.give_up_after
            while time.monotonic() < deadline:
                try:
                    if signed_post(self.api, body).status_code == 200:
                        self.phones.append(phone)
                        break
                except requests.RequestException:
                    pass
                self.retries += 1
                time.sleep(0.5)
            time.sleep(self.interval)

    def all_answered(self):
        return all(phone.count("help") >= 1 for phone in self.phones)

    def answered_once(self):
        return all(phone.count("help") == 1 for phone in self.phones)
