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

import eventlet.tpool
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from nameko.extensions import DependencyProvider

from services.common import config as cfg
from services.common.errors import Unauthenticated

_hasher = PasswordHasher()


def hash_password(password):
    return eventlet.tpool.execute(_hasher.hash, password)


def verify_password(password_hash, password):
    try:
        return eventlet.tpool.execute(_hasher.verify, password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _b64(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenSigner:
    def __init__(self, secret, ttl):
        self.secret = secret
        self.ttl = int(ttl)

    def _sign(self, payload):
        return _b64(hmac.new(self.secret, payload.encode(), hashlib.sha256).digest())

    def issue(self, subject, now=None):
        issued = int(now if now is not None else time.time())
        payload = _b64(
            json.dumps(
                {"sub": subject, "iat": issued, "exp": issued + self.ttl}, separators=(",", ":")
            ).encode()
        )
        return f"{payload}.{self._sign(payload)}"

    def verify(self, token, now=None):
        """``(subject, seconds_left)``; ``Unauthenticated`` if tampered with or expired."""
        try:
            payload, signature = str(token).split(".")
        except ValueError:
            raise Unauthenticated("The access token is malformed; log in again.") from None
        if not hmac.compare_digest(signature, self._sign(payload)):
            raise Unauthenticated("The access token is not valid; log in again.")
        claims = json.loads(_unb64(payload))
        left = claims["exp"] - (now if now is not None else time.time())
        if left <= 0:
            raise Unauthenticated("The access token has expired; log in again.")
        return claims["sub"], int(left)


class Tokens(DependencyProvider):
    """Injects the ``TokenSigner`` built from ``KOMPOR_SECRET_KEY`` (or the key
    generated and kept under ``KOMPOR_DATA_DIR``) and ``KOMPOR_TOKEN_TTL``."""

    def setup(self):
        config = self.container.config
        ttl = cfg.setting(config, cfg.TOKEN_TTL_KEY, cfg.DEFAULT_TOKEN_TTL)
        self.signer = TokenSigner(cfg.secret_key(config), ttl)

    def get_dependency(self, worker_ctx):
        return self.signer
