"""Configuration keys (docs/architecture.md §14) and the few helpers that interpret them.

Every key is set in ``deploy/config.yaml`` from the environment; services read them
from ``container.config`` once, in ``setup()``. Here are the keys that ``services/common``
reads for every service; a key that one service alone reads lives in that service, next
to the code that reads it (``orders/settings.py``, for example).
"""

import os
import pathlib
import secrets
from typing import Any

from services.common.types import Config

AMQP_URI_KEY = "AMQP_URI"
MONGO_URI_KEY = "MONGO_URI"
DATA_DIR_KEY = "KOMPOR_DATA_DIR"
SECRET_KEY_KEY = "KOMPOR_SECRET_KEY"
TOKEN_TTL_KEY = "KOMPOR_TOKEN_TTL"
RETRY_DELAYS_KEY = "KOMPOR_RETRY_DELAYS"
OUTBOX_SWEEP_KEY = "KOMPOR_OUTBOX_SWEEP_SECONDS"

DEFAULT_AMQP_URI = "amqp://guest:guest@localhost:5672/"
DEFAULT_DATA_DIR = "./var"
DEFAULT_TOKEN_TTL = 24 * 3600
DEFAULT_RETRY_DELAYS = (1, 5, 30, 120, 600)
DEFAULT_OUTBOX_SWEEP = 2.0
MIN_SECRET_KEY_LENGTH = 32


def setting(config: Config, key: str, default: Any = None) -> Any:
    """A config value, treating the empty string of an unset ``${VAR:}`` as unset."""
    value = config.get(key)
    return default if value in (None, "") else value


def amqp_uri() -> str:
    """The broker for a command run outside nameko (``make run``, the operator CLI)."""
    return os.environ.get(AMQP_URI_KEY, DEFAULT_AMQP_URI)


def data_dir(config: Config) -> pathlib.Path:
    path = pathlib.Path(setting(config, DATA_DIR_KEY, DEFAULT_DATA_DIR)).absolute()
    path.mkdir(parents=True, exist_ok=True)
    return path


def retry_delays(config: Config) -> tuple[float, ...]:
    """Seconds to wait before each retry of a failed handler or delivery."""
    value = setting(config, RETRY_DELAYS_KEY, DEFAULT_RETRY_DELAYS)
    if isinstance(value, str):
        value = [part for part in value.split(",") if part.strip()]
    return tuple(float(delay) for delay in value)


def secret_key(config: Config) -> bytes:
    """The token signing key: ``KOMPOR_SECRET_KEY``, else one generated once and kept
    in ``KOMPOR_DATA_DIR/secret_key`` (mode 0600), so tokens survive a restart."""
    configured = setting(config, SECRET_KEY_KEY)
    if configured:
        return require_min_length(SECRET_KEY_KEY, str(configured), MIN_SECRET_KEY_LENGTH).encode()
    path = data_dir(config) / "secret_key"
    if not path.exists():
        _publish_new_key(path)
    return path.read_bytes().strip()


def _publish_new_key(path: pathlib.Path) -> None:
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


def require_min_length(key: str, value: str, minimum: int) -> str:
    """``value`` of setting ``key``, refused at start when shorter than ``minimum``
    (the message names the setting, never the value)."""
    if len(value) < minimum:
        raise ValueError(
            f"{key} is too short: use at least {minimum} characters "
            f"(for example the output of `openssl rand -hex {max(minimum // 2, 16)}`)"
        )
    return value
