"""Where messages go: HTTP providers for SMS and WhatsApp, SMTP for email
(docs/architecture.md §14).

Every channel either hands the message over or raises ``DeliveryFailed`` (a provider
answering 4xx/5xx, timing out, resetting the connection) or ``ChannelNotConfigured``;
the courier then falls back to SMS and, if that fails too, tries again later.
"""

import email.message
import email.utils
import logging
import smtplib
import ssl
import urllib.parse

import requests
import requests.adapters
from nameko.extensions import DependencyProvider

from services.common import config as cfg
from services.common.phone import mask_phone
from services.notifications import settings
from services.notifications.domain import BroadcastPace, DeliveryPolicy, address_for
from services.notifications.exceptions import ChannelNotConfigured, DeliveryFailed

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT = 3.05
DEFAULT_SENDER = "KOMPOR DESA <no-reply@kompordesa.id>"
SMTP_PORTS = {"smtp": 25, "smtps": 465}
SMTP_URL_SHAPE = "SMTP_URL must look like smtp://user:password@host:port or smtps://…"


class HttpChannel:
    """``POST {"to": "+62…", "message": "…"}``; any 2xx means accepted. Each message
    carries ``Idempotency-Key: <message id>``: a crash between the provider's 2xx and
    recording it sends the message again under the same key, which a provider that
    honours the header delivers once."""

    def __init__(self, name, url, token, session, timeout=settings.DEFAULT_PROVIDER_TIMEOUT):
        self.name = name
        self.url = url
        self.token = token
        self.session = session
        self.timeout = (min(CONNECT_TIMEOUT, timeout), timeout)

    def send(self, to, text, subject=None, message_id=None):
        if not self.url:
            raise ChannelNotConfigured(f"not configured ({self.name} provider URL unset)")
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        if message_id:
            headers["Idempotency-Key"] = message_id
        try:
            response = self.session.post(
                self.url, json={"to": to, "message": text}, headers=headers, timeout=self.timeout
            )
        except requests.Timeout:
            raise DeliveryFailed("provider timed out") from None
        except requests.RequestException as exc:
            raise DeliveryFailed(f"provider unreachable ({type(exc).__name__})") from None
        if not 200 <= response.status_code < 300:
            raise DeliveryFailed(f"provider answered {response.status_code}")


class LoggedSms:
    """SMS with no provider configured: it is only logged, and the delivery log says
    so (docs/architecture.md §14)."""

    name = "sms"
    only_logs = True  # so it is given what may be logged (a one-time code hidden)

    def send(self, to, text, subject=None, message_id=None):
        logger.info("SMS (no provider configured) to %s: %s", mask_phone(to), text)
        return "no provider configured; only logged"


class SmtpChannel:
    """Email through ``SMTP_URL``: ``smtp://user:pass@host:port`` (STARTTLS) or
    ``smtps://…`` (TLS from the start); ``?from=`` sets the sender (default: the user
    when it is an address, else no-reply), ``?cafile=`` trusts a private CA.

    The server's certificate is always verified, and credentials only ever travel
    inside TLS: a server that does not offer STARTTLS gets no password, the attempt
    fails and the message waits for its retry. Without credentials, a server that
    offers no STARTTLS (a relay on the same host) is spoken to in plain text."""

    name = "email"

    def __init__(self, url, timeout=settings.DEFAULT_PROVIDER_TIMEOUT):
        self.url = url
        self.timeout = timeout
        if url:
            self._parse(url)

    def _parse(self, url):
        # the URL holds a password: errors say what is wrong, never what was given
        try:
            parts = urllib.parse.urlsplit(url)
            port = parts.port
        except ValueError:
            raise ValueError(
                f"{SMTP_URL_SHAPE}; the configured one does not parse (is the port a number?)"
            ) from None
        if parts.scheme not in SMTP_PORTS:
            raise ValueError(f"{SMTP_URL_SHAPE}; the configured one has another scheme")
        if not parts.hostname:
            raise ValueError(f"{SMTP_URL_SHAPE}; the configured one has no host")
        self.tls = parts.scheme == "smtps"
        self.host = parts.hostname
        self.port = port or SMTP_PORTS[parts.scheme]
        self.user = urllib.parse.unquote(parts.username or "")
        self.password = urllib.parse.unquote(parts.password or "")
        query = urllib.parse.parse_qs(parts.query)
        fallback = self.user if "@" in self.user else DEFAULT_SENDER
        self.sender = query.get("from", [fallback])[0]
        self.cafile = query.get("cafile", [None])[0]

    def send(self, to, text, subject=None, message_id=None):
        if not self.url:
            raise ChannelNotConfigured("not configured (SMTP_URL unset)")
        message = email.message.EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject or "KOMPOR DESA"
        message["Date"] = email.utils.formatdate(usegmt=True)
        # the same message sent again keeps its Message-ID, so mail systems see a repeat
        message["Message-ID"] = (
            f"<{message_id}@kompordesa.id>"
            if message_id
            else email.utils.make_msgid(domain="kompordesa.id")
        )
        message.set_content(text)
        try:
            with self._connect() as smtp:
                if self.user:
                    smtp.login(self.user, self.password)
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused:
            raise DeliveryFailed("mail server refused the address") from None
        except smtplib.SMTPResponseException as exc:
            raise DeliveryFailed(f"mail server answered {exc.smtp_code}") from None
        except ssl.SSLCertVerificationError:
            raise DeliveryFailed("mail server certificate not trusted") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryFailed(f"mail server unreachable ({type(exc).__name__})") from None

    def _tls_context(self):
        return ssl.create_default_context(cafile=self.cafile)

    def _connect(self):
        if self.tls:
            return smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=self._tls_context()
            )
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            smtp.ehlo()
            if smtp.has_extn("starttls"):
                smtp.starttls(context=self._tls_context())
                smtp.ehlo()
            elif self.user:
                raise DeliveryFailed(
                    "mail server offers no STARTTLS; credentials are only sent over TLS"
                )
        except BaseException:
            smtp.close()
            raise
        return smtp


def message_id(notification, channel):
    """The same on every try of one notification on one channel."""
    return f"{notification['_id']}.{channel}"


class Postbox:
    """The configured channels by name, the retry policy for deliveries, and the pace
    of broadcasts (one per process: every delivery of the process keeps to it)."""

    def __init__(self, channels, policy, pace=None):
        self.channels = channels
        self.policy = policy
        self.pace = pace or BroadcastPace(settings.DEFAULT_BROADCAST_RATE)

    def send(self, channel, notification):
        """Hand ``notification`` to ``channel``; returns a note when it was accepted
        with a caveat (SMS only logged)."""
        if channel not in self.channels:
            raise ChannelNotConfigured(f"no such channel {channel!r}")
        to = address_for(notification, channel)
        if not to:
            raise DeliveryFailed(
                f"the member has no {'email address' if channel == 'email' else 'phone'}"
            )
        provider = self.channels[channel]
        return provider.send(
            to,
            _text_for(provider, notification),
            notification["subject"],
            message_id=message_id(notification, channel),
        )


def _text_for(provider, notification):
    """What ``provider`` gets: the text to send (a one-time code in it), or, for one
    that only logs, the text with the code hidden."""
    if getattr(provider, "only_logs", False):
        return notification["text"]
    return notification.get("secret_text") or notification["text"]


def provider_session(url, connections):
    """A session of one provider's own that keeps up to ``connections`` connections
    to it alive (one per worker that may be sending), with the proxy and CA settings
    of the environment read once here rather than again for every message."""
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=connections)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    if url:
        found = session.merge_environment_settings(url, {}, None, None, None)
        session.proxies.update(found["proxies"])
        session.verify, session.cert = found["verify"], found["cert"]
    session.trust_env = False
    return session


class Channels(DependencyProvider):
    """Injects a ``Postbox`` built from the provider and delivery settings
    (docs/architecture.md §14)."""

    def setup(self):
        config = self.container.config
        timeout = float(
            cfg.setting(config, settings.PROVIDER_TIMEOUT_KEY, settings.DEFAULT_PROVIDER_TIMEOUT)
        )
        workers = self.container.max_workers
        sms_url = cfg.setting(config, settings.SMS_GATEWAY_URL_KEY)
        sms_token = cfg.setting(config, settings.SMS_GATEWAY_TOKEN_KEY)
        whatsapp_url = cfg.setting(config, settings.WHATSAPP_API_URL_KEY)
        channels = {
            "sms": HttpChannel(
                "sms", sms_url, sms_token, provider_session(sms_url, workers), timeout
            )
            if sms_url
            else LoggedSms(),
            "whatsapp": HttpChannel(
                "whatsapp",
                whatsapp_url,
                cfg.setting(config, settings.WHATSAPP_API_TOKEN_KEY),
                provider_session(whatsapp_url, workers),
                timeout,
            ),
            "email": SmtpChannel(cfg.setting(config, settings.SMTP_URL_KEY), timeout),
        }
        default = DeliveryPolicy()
        policy = DeliveryPolicy(
            base_delay=cfg.setting(config, settings.DELIVERY_BASE_DELAY_KEY, default.base_delay),
            max_delay=cfg.setting(config, settings.DELIVERY_MAX_DELAY_KEY, default.max_delay),
            max_attempts=cfg.setting(
                config, settings.DELIVERY_MAX_ATTEMPTS_KEY, default.max_attempts
            ),
        )
        rate = cfg.setting(config, settings.BROADCAST_RATE_KEY, settings.DEFAULT_BROADCAST_RATE)
        self.postbox = Postbox(channels, policy, BroadcastPace(rate))

    def get_dependency(self, worker_ctx):
        return self.postbox
