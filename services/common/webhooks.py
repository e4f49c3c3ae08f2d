"""Signed inbound webhooks (DESIGN §7): who may post a member's text message to us.

The provider signs each request with the secret we share (``INBOUND_WEBHOOK_SECRET``):
``X-Kompor-Signature`` is the hex HMAC-SHA256 of the raw body, or, when it also sends
``X-Kompor-Timestamp`` (Unix seconds), of ``timestamp + "." + body``; a timestamp more
than ``MAX_SKEW`` away from now is refused, so a captured request cannot be replayed
later. Pure: the gateway checks, the tests and the benchmark sign with the same code.
"""

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Kompor-Signature"
TIMESTAMP_HEADER = "X-Kompor-Timestamp"
SECRET_KEY = "INBOUND_WEBHOOK_SECRET"
MAX_SKEW = 300
"""Seconds a signed timestamp may be away from our clock, either way."""


class BadSignature(ValueError):
    """The request is not signed with our secret, or too long ago; the message says
    what the provider should fix (never the expected signature)."""


def signed_text(body: bytes, timestamp: str | None = None) -> bytes:
    return body if timestamp is None else timestamp.encode() + b"." + body


def sign(body: bytes, secret: str, timestamp: str | None = None) -> str:
    """``X-Kompor-Signature`` for ``body`` (and ``timestamp``, when sent)."""
    return hmac.new(secret.encode(), signed_text(body, timestamp), hashlib.sha256).hexdigest()


def verify(
    body: bytes,
    secret: str,
    signature: str | None,
    timestamp: str | None = None,
    now: float | None = None,
) -> None:
    """Nothing when ``signature`` is ours for ``body`` (and a fresh ``timestamp``);
    ``BadSignature`` otherwise. The comparison takes the same time whatever differs."""
    if not signature:
        raise BadSignature(f"Sign the request: send {SIGNATURE_HEADER}.")
    if timestamp is not None:
        try:
            moment = int(timestamp.strip())
        except ValueError:
            raise BadSignature(f"{TIMESTAMP_HEADER} must be Unix seconds.") from None
        if abs((time.time() if now is None else now) - moment) > MAX_SKEW:
            raise BadSignature(
                f"{TIMESTAMP_HEADER} is more than {MAX_SKEW} seconds away from our clock; "
                "sign with the current time."
            )
    expected = sign(body, secret, timestamp)
    if not hmac.compare_digest(expected.encode(), signature.strip().lower().encode()):
        raise BadSignature(
            f"{SIGNATURE_HEADER} does not match: send the hex HMAC-SHA256 of the raw body "
            f"(or of timestamp + '.' + body with {TIMESTAMP_HEADER}) under the shared secret."
        )
