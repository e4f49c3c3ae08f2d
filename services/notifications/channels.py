"""Where messages go: HTTP providers for SMS and WhatsApp (DESIGN §2)."""

import logging

import requests
from nameko.extensions import DependencyProvider

from services.common import config as cfg
from services.notifications.domain import DeliveryPolicy
from services.notifications.exceptions import ChannelNotConfigured, DeliveryFailed

logger = logging.getLogger(__name__)

PROVIDER_TIMEOUT = (3.05, 10)


class HttpChannel:
    """``POST {"to": "+62…", "message": "…"}``; any 2xx means accepted."""

    def __init__(self, name, url, token, session):
        self.name = name
        self.url = url
        self.token = token
        self.session = session

    def send(self, to, message):
        if not self.url:
            raise ChannelNotConfigured(f"{self.name} is not configured")
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            response = self.session.post(
                self.url,
                json={"to": to, "message": message},
                headers=headers,
                timeout=PROVIDER_TIMEOUT,
            )
        except requests.RequestException as exc:
            raise DeliveryFailed(f"{self.name} provider unreachable: {exc}") from None
        if not 200 <= response.status_code < 300:
            raise DeliveryFailed(f"{self.name} provider answered {response.status_code}")


class LoggedSms:
    """SMS with no provider configured: DESIGN §2 says it is only logged."""

    name = "sms"

    def send(self, to, message):
        logger.info("SMS (no provider configured) to %s: %s", to, message)


class Postbox:
    """The configured channels by name, and the retry policy for deliveries."""

    def __init__(self, channels, policy):
        self.channels = channels
        self.policy = policy

    def __getitem__(self, name):
        return self.channels[name]


class Channels(DependencyProvider):
    """Injects a ``Postbox`` built from the provider settings of DESIGN §2."""

    def setup(self):
        config = self.container.config
        session = requests.Session()
        sms_url = cfg.setting(config, cfg.SMS_GATEWAY_URL_KEY)
        channels = {
            "sms": HttpChannel(
                "sms", sms_url, cfg.setting(config, cfg.SMS_GATEWAY_TOKEN_KEY), session
            )
            if sms_url
            else LoggedSms(),
            "whatsapp": HttpChannel(
                "whatsapp",
                cfg.setting(config, cfg.WHATSAPP_API_URL_KEY),
                cfg.setting(config, cfg.WHATSAPP_API_TOKEN_KEY),
                session,
            ),
        }
        policy = DeliveryPolicy(
            base_delay=cfg.setting(config, cfg.DELIVERY_BASE_DELAY_KEY, 5),
            max_delay=cfg.setting(config, cfg.DELIVERY_MAX_DELAY_KEY, 600),
            max_attempts=cfg.setting(config, cfg.DELIVERY_MAX_ATTEMPTS_KEY, 12),
        )
        self.postbox = Postbox(channels, policy)

    def get_dependency(self, worker_ctx):
        return self.postbox
