"""A local SMTP server standing in for the mail provider (aiosmtpd), with a
certificate for 127.0.0.1 signed by the test CA in ``tls/`` (the URL trusts it)."""

import email
import email.policy
import pathlib
import ssl
import threading
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from nameko.testing.utils import find_free_port

TLS = pathlib.Path(__file__).parent / "tls"
TEST_CA = TLS / "ca.pem"


def server_tls_context():
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(TLS / "server.pem", TLS / "server.key")
    return context


class SmtpSink:
    """Records each mail as ``{"to", "from", "subject", "body"}``; ``fail_for(seconds)``
    makes it answer ``451`` (try again later). ``url`` is an ``SMTP_URL``.

    ``tls``: ``"starttls"`` (offered, and required before logging in), ``"implicit"``
    (``smtps://``, TLS from the first byte) or ``None`` (plain text only)."""

    def __init__(self, tls="starttls"):
        self.messages = []
        self._fail_until = 0.0
        self._lock = threading.Lock()
        self.port = find_free_port()
        self.logins = []
        options = {"auth_require_tls": False}
        if tls == "starttls":
            options = {"tls_context": server_tls_context(), "auth_require_tls": True}
        elif tls == "implicit":
            options["ssl_context"] = server_tls_context()
        self.controller = Controller(
            self,
            hostname="127.0.0.1",
            port=self.port,
            authenticator=self._authenticate,
            **options,
        )
        scheme = "smtps" if tls == "implicit" else "smtp"
        self.url = (
            f"{scheme}://kompor:rahasia@127.0.0.1:{self.port}"
            f"?from=kabar@kompordesa.id&cafile={TEST_CA}"
        )

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
