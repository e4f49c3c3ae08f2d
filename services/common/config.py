"""Configuration keys (DESIGN §2) and the few helpers that interpret them.

Every key is set in ``deploy/config.yaml`` from the environment; services read them
from ``container.config`` once, in ``setup()``.
"""

import os
import pathlib
import secrets

AMQP_URI_KEY = "AMQP_URI"
MONGO_URI_KEY = "MONGO_URI"
DATA_DIR_KEY = "KOMPOR_DATA_DIR"
SECRET_KEY_KEY = "KOMPOR_SECRET_KEY"
ADMIN_PHONE_KEY = "KOMPOR_ADMIN_PHONE"
ADMIN_PASSWORD_KEY = "KOMPOR_ADMIN_PASSWORD"
SMS_GATEWAY_URL_KEY = "SMS_GATEWAY_URL"
SMS_GATEWAY_TOKEN_KEY = "SMS_GATEWAY_TOKEN"
WHATSAPP_API_URL_KEY = "WHATSAPP_API_URL"
WHATSAPP_API_TOKEN_KEY = "WHATSAPP_API_TOKEN"
SMTP_URL_KEY = "SMTP_URL"
RPC_TIMEOUT_KEY = "KOMPOR_RPC_TIMEOUT"
RETRY_DELAYS_KEY = "KOMPOR_RETRY_DELAYS"
OUTBOX_SWEEP_KEY = "KOMPOR_OUTBOX_SWEEP_SECONDS"
TOKEN_TTL_KEY = "KOMPOR_TOKEN_TTL"
DELIVERY_BASE_DELAY_KEY = "KOMPOR_DELIVERY_BASE_DELAY"
DELIVERY_MAX_DELAY_KEY = "KOMPOR_DELIVERY_MAX_DELAY"
DELIVERY_MAX_ATTEMPTS_KEY = "KOMPOR_DELIVERY_MAX_ATTEMPTS"
PROVIDER_TIMEOUT_KEY = "KOMPOR_PROVIDER_TIMEOUT"
ORDER_RETRY_KEY = "KOMPOR_ORDER_RETRY_SECONDS"

DEFAULT_DATA_DIR = "./var"
DEFAULT_RPC_TIMEOUT = 5.0
DEFAULT_RETRY_DELAYS = (1, 5, 30, 120, 600)
DEFAULT_OUTBOX_SWEEP = 2.0
DEFAULT_TOKEN_TTL = 24 * 3600
DEFAULT_ORDER_RETRY = 60.0
MIN_SECRET_KEY_LENGTH = 32
MIN_ADMIN_PASSWORD_LENGTH = 12


def setting(config, key, default=None):
    """A config value, treating the empty string of an unset ``${VAR:}`` as unset."""
    value = config.get(key)
    return default if value in (None, "") else value


def data_dir(config):
    path = pathlib.Path(setting(config, DATA_DIR_KEY, DEFAULT_DATA_DIR)).absolute()
    path.mkdir(parents=True, exist_ok=True)
    return path


def retry_delays(config):
    """Seconds to wait before each retry of a failed handler or delivery."""
    value = setting(config, RETRY_DELAYS_KEY, DEFAULT_RETRY_DELAYS)
    if isinstance(value, str):
        value = [part for part in value.split(",") if part.strip()]
    return tuple(float(delay) for delay in value)


def secret_key(config):
    """The token signing key: ``KOMPOR_SECRET_KEY``, else one generated once and kept
    in ``KOMPOR_DATA_DIR/secret_key`` (mode 0600), so tokens survive a restart."""
    configured = setting(config, SECRET_KEY_KEY)
    if configured:
        return require_min_length(SECRET_KEY_KEY, str(configured), MIN_SECRET_KEY_LENGTH).encode()
    path = data_dir(config) / "secret_key"
    if not path.exists():
        _publish_new_key(path)
    return path.read_bytes().strip()


def _publish_new_key(path):
    """Write a key under a name no one else uses, private from its first byte, then
    link it into place: replicas sharing the volume race, the first link wins and
    every replica reads that one key."""
    draft = path.with_name(f".secret_key.{secrets.token_hex(8)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as file:
            file.write(secrets.token_hex(32))
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
    finally:
        draft.unlink()


def require_min_length(key, value, minimum):
    """``value`` of setting ``key``, refused at start when shorter than ``minimum``
    (the message names the setting, never the value)."""
    if len(value) < minimum:
        raise ValueError(
            f"{key} is too short: use at least {minimum} characters "
            f"(for example the output of `openssl rand -hex {max(minimum // 2, 16)}`)"
        )
    return value
