"""A local SMTP server standing in for the mail provider (aiosmtpd)."""

import email
import email.policy
import threading
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from nameko.testing.utils import find_free_port


class SmtpSink:
    """Records each mail as ``{"to", "from", "subject", "body"}``; ``fail_for(seconds)``
    makes it answer ``451`` (try again later). ``url`` is an ``SMTP_URL``."""

    def __init__(self):
        self.messages = []
        self._fail_until = 0.0
        self._lock = threading.Lock()
        self.port = find_free_port()
        self.logins = []
        self.controller = Controller(
            self,
            hostname="127.0.0.1",
            port=self.port,
            authenticator=self._authenticate,
            auth_require_tls=False,
        )
        self.url = f"smtp://kompor:rahasia@127.0.0.1:{self.port}?from=kabar@kompordesa.id"

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword):
            self.logins.append((auth_data.login.decode(), auth_data.password.decode()))
        return AuthResult(success=True)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's naming
        if time.monotonic() < self._fail_until:
            return "451 Mailbox busy, try again later"
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            for recipient in envelope.rcpt_tos:
                self.messages.append(
                    {
                        "to": recipient,
                        "from": envelope.mail_from,
                        "subject": str(parsed["Subject"]),
                        "body": parsed.get_content().strip(),
                    }
                )
        return "250 Message accepted"

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()

    def fail_for(self, seconds):
        self._fail_until = time.monotonic() + seconds

    def to(self, address):
        with self._lock:
            return [message for message in self.messages if message["to"] == address]
