"""One-time codes (DESIGN §7): a 6-digit code by SMS to reset a password.

- A code is valid for 10 minutes; a phone gets at most 3 codes an hour (the 4th is
  refused with the wait), counted for phones no member has too, so the answer never
  tells whether a phone is registered. A new code replaces the phone's earlier one.
- Five wrong codes void it; a right code is spent by its first use.
- Only the HMAC-SHA256 of the phone and code, under a key derived from the service's
  secret key, is kept, and it is compared in constant time. The plain code exists in
  the ``otp_issued`` event only (notifications needs it for the SMS).
- A request repeated under the same ``Idempotency-Key`` within the hour sends nothing
  new and is not counted again.

No nameko, no pymongo: the repository applies these rules to the ``one_time_codes``
documents, one per phone: ``{_id: phone, issued: [times], keys: [{key, at}],
member_id, purpose, code_hash, expires_at, wrong, state, updated_at}``.
"""

import datetime
import hashlib
import hmac
import secrets
from collections.abc import Callable, Mapping
from typing import Any

from services.common.envelope import isoformat, record, utcnow
from services.common.errors import KomporError
from services.common.types import Document
from services.community.contract import OTP_ISSUED, OTP_VALID_MINUTES, RESET_PASSWORD, OtpIssued
from services.community.exceptions import CodeLimitReached, CodeNotValid, WrongCode

CODE_DIGITS = 6
CODE_TTL = datetime.timedelta(minutes=OTP_VALID_MINUTES)
CODES_PER_WINDOW = 3
WINDOW = datetime.timedelta(hours=1)
WRONG_TRIES = 5
RECORD_KEPT = datetime.timedelta(days=1)
ACTIVE, SPENT, VOID = "active", "spent", "void"
ASK_AGAIN = "ask for a new one (POST /api/v1/auth/otp)"

Outcome = tuple[Document | None, KomporError | None]
"""What a try on a code does: the record to write (``None``: nothing), and the error
to answer once it is written (``None``: the code was right)."""


def code_key(secret: bytes) -> bytes:
    """The key codes are hashed under: derived from the service's secret key, so a
    code's hash is never a valid token signature and the other way round."""
    return hmac.new(secret, b"kompor one-time codes", hashlib.sha256).digest()


def new_code(draw: Callable[[int], int] = secrets.randbelow) -> str:
    """Six random digits, leading zeros kept."""
    return f"{draw(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def digest(key: bytes, phone: str, code: str) -> str:
    return hmac.new(key, f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def matches(code_record: Document, key: bytes, phone: str, code: str) -> bool:
    """Whether ``code`` is the record's, compared in constant time."""
    return hmac.compare_digest(code_record.get("code_hash") or "", digest(key, phone, code))


def _within_window(code_record: Document | None, now: datetime.datetime) -> list[Any]:
    return [moment for moment in (code_record or {}).get("issued", []) if now - moment < WINDOW]


def _recent_keys(code_record: Document | None, now: datetime.datetime) -> list[Any]:
    return [entry for entry in (code_record or {}).get("keys", []) if now - entry["at"] < WINDOW]


def repeats(
    code_record: Document | None, idempotency_key: str | None, now: datetime.datetime
) -> bool:
    """A request already made under ``idempotency_key`` within the hour."""
    recent = _recent_keys(code_record, now)
    return idempotency_key is not None and any(e["key"] == idempotency_key for e in recent)


def check_can_issue(code_record: Document | None, now: datetime.datetime | None = None) -> None:
    """``CodeLimitReached`` (naming ``phone``, with ``retry_after``) once the phone had
    ``CODES_PER_WINDOW`` codes within the last hour."""
    now = now or utcnow()
    issued = _within_window(code_record, now)
    if len(issued) < CODES_PER_WINDOW:
        return
    wait = int((min(issued) + WINDOW - now).total_seconds()) + 1
    raise CodeLimitReached(
        f"At most {CODES_PER_WINDOW} codes an hour go to one phone; wait {wait} seconds "
        "and ask again, or use the last code you received.",
        {
            "phone": [
                f"{CODES_PER_WINDOW} codes asked for within the hour; ask again in {wait} s."
            ],
            "retry_after": [str(wait)],
        },
    )


def issue(
    code_record: Document | None,
    phone: str,
    purpose: str,
    member: Mapping[str, Any] | None,
    key: bytes,
    idempotency_key: str | None = None,
    now: datetime.datetime | None = None,
    code: str | None = None,
) -> Outcome:
    """The phone's record after a code is asked for it: counted whether or not a
    member has the phone; for a member, a new code (hashed) that replaces the last one
    and ``otp_issued`` with the plain code for the SMS. Nothing to write when it
    repeats a request (same ``idempotency_key``: nothing sent) or when the phone had
    its codes for the hour (``CodeLimitReached``)."""
    now = _store_precision(now or utcnow())
    if repeats(code_record, idempotency_key, now):
        return None, None
    try:
        check_can_issue(code_record, now)
    except CodeLimitReached as refused:
        return None, refused
    changed: Document = {
        **(code_record or {"_id": phone}),
        "issued": [*_within_window(code_record, now), now],
        "keys": _recent_keys(code_record, now),
        "member_id": None,
        "purpose": purpose,
        "code_hash": None,
        "expires_at": None,
        "wrong": 0,
        "state": None,
        "updated_at": now,
    }
    if idempotency_key is not None:
        changed["keys"].append({"key": idempotency_key, "at": now})
    if member is None:
        return changed, None  # counted, and nothing is sent
    code = code or new_code()
    changed.update(
        member_id=member["_id"],
        code_hash=digest(key, phone, code),
        expires_at=now + CODE_TTL,
        state=ACTIVE,
    )
    data: OtpIssued = {
        "member_id": member["_id"],
        "phone": phone,
        "code": code,
        "purpose": purpose,
        "expires_at": isoformat(changed["expires_at"]),
        "language": member["language"],
    }
    record(changed, OTP_ISSUED, data)
    return changed, None


def redeem(
    code_record: Document | None,
    phone: str,
    code: str,
    member: Mapping[str, Any] | None,
    key: bytes,
    now: datetime.datetime | None = None,
) -> Outcome:
    """One try of ``code`` for ``phone``: the right code is spent; a wrong one counts
    (``WrongCode`` says how many tries are left, or that the code is now void). No code
    to try (none asked, expired, spent, voided, or the phone's member is not the one it
    was sent to) is ``CodeNotValid`` and changes nothing."""
    now = _store_precision(now or utcnow())
    if not _usable(code_record, member, now):
        return None, CodeNotValid(
            f"There is no valid code for this phone; {ASK_AGAIN}.",
            {"code": [f"Expired, used or voided; {ASK_AGAIN}."]},
        )
    assert code_record is not None  # _usable
    changed = {**code_record, "updated_at": now}
    if matches(code_record, key, phone, code):
        changed["state"] = SPENT
        return changed, None
    changed["wrong"] = code_record.get("wrong", 0) + 1
    left = WRONG_TRIES - changed["wrong"]
    if left > 0:
        tries = "try" if left == 1 else "tries"
        return changed, WrongCode(
            f"Wrong code; {left} {tries} left.",
            {"code": [f"Wrong code; {left} {tries} left before it is void."]},
        )
    changed["state"] = VOID
    return changed, WrongCode(
        f"Wrong code; after {WRONG_TRIES} wrong tries it is void: {ASK_AGAIN}.",
        {"code": [f"Void after {WRONG_TRIES} wrong tries; {ASK_AGAIN}."]},
    )


def _usable(
    code_record: Document | None, member: Mapping[str, Any] | None, now: datetime.datetime
) -> bool:
    return (
        code_record is not None
        and member is not None
        and code_record.get("state") == ACTIVE
        and code_record.get("member_id") == member["_id"]
        and code_record.get("purpose") == RESET_PASSWORD
        and code_record["expires_at"] > now
    )


def _store_precision(moment: datetime.datetime) -> datetime.datetime:
    # the store keeps milliseconds: what is written is what a later comparison reads
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)
