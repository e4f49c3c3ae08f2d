"""Access tokens and password hashing.

Tokens are ``<payload>.<signature>``: base64url JSON ``{"sub", "iat", "exp"}`` signed
with HMAC-SHA256 under the service's secret key. Passwords are hashed with Argon2id
(a slow, memory-hard KDF) off the event loop, so a login never stalls other requests.
"""

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import eventlet.tpool
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from nameko.containers import WorkerContext
from nameko.extensions import DependencyProvider

from services.common import config as cfg
from services.common.errors import Unauthenticated

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    hashed: str = eventlet.tpool.execute(_hasher.hash, password)
    return hashed


def verify_password(password_hash: str | None, password: str) -> bool:
    """``False`` for a member without a password (registered by text message)."""
    if not password_hash:
        return False
    try:
        matches: bool = eventlet.tpool.execute(_hasher.verify, password_hash, password)
        return matches
    except (VerificationError, InvalidHashError):
        return False


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenSigner:
    def __init__(self, secret: bytes, ttl: int | str) -> None:
        self.secret = secret
        self.ttl = int(ttl)

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self.secret, payload.encode(), hashlib.sha256).digest())

    def issue(self, subject: str, now: float | None = None) -> str:
        issued = int(now if now is not None else time.time())
        payload = _b64(
            json.dumps(
                {"sub": subject, "iat": issued, "exp": issued + self.ttl}, separators=(",", ":")
            ).encode()
        )
        return f"{payload}.{self._sign(payload)}"

    def verify(self, token: object, now: float | None = None) -> tuple[str, int]:
        """``(subject, seconds_left)``; ``Unauthenticated`` if tampered with or expired."""
        # a header is any bytes a client sent (latin-1 to the gateway): only an ASCII
        # token can be one of ours, and compare_digest refuses any other text
        text = token if isinstance(token, str) else ""
        try:
            payload, signature = text.split(".")
        except ValueError:
            raise Unauthenticated("The access token is malformed; log in again.") from None
        if not text.isascii() or not hmac.compare_digest(signature, self._sign(payload)):
            raise Unauthenticated("The access token is not valid; log in again.")
        try:
            claims: dict[str, Any] = json.loads(_unb64(payload))
            left = claims["exp"] - (now if now is not None else time.time())
            subject = claims["sub"]
        except (ValueError, KeyError, TypeError):  # signed by us, so only if the key leaked
            raise Unauthenticated("The access token is malformed; log in again.") from None
        if left <= 0:
            raise Unauthenticated("The access token has expired; log in again.")
        return subject, int(left)


class Tokens(DependencyProvider):
    """Injects the ``TokenSigner`` built from ``KOMPOR_SECRET_KEY`` (or the key
    generated and kept under ``KOMPOR_DATA_DIR``) and ``KOMPOR_TOKEN_TTL``."""

    def setup(self) -> None:
        config = self.container.config
        ttl = cfg.setting(config, cfg.TOKEN_TTL_KEY, cfg.DEFAULT_TOKEN_TTL)
        self.signer = TokenSigner(cfg.secret_key(config), ttl)

    def get_dependency(self, worker_ctx: WorkerContext) -> TokenSigner:
        return self.signer
