"""Community rules: members, profiles, login throttling. No nameko, no pymongo."""

import datetime

from services.common.envelope import new_id, record, utcnow
from services.community.exceptions import TooManyAttempts

DEFAULT_CHANNEL = "sms"
DEFAULT_LANGUAGE = "id"
FREE_LOGIN_FAILURES = 5
FIRST_LOCKOUT = datetime.timedelta(seconds=30)
LONGEST_LOCKOUT = datetime.timedelta(minutes=15)
PROFILE_FIELDS = ("name", "email", "preferred_channel", "language")


def contact(member):
    """What other services may know of a member (never the password)."""
    return {
        "member_id": member["_id"],
        "name": member["name"],
        "phone": member["phone"],
        "email": member.get("email"),
        "preferred_channel": member["preferred_channel"],
        "language": member["language"],
    }


def actor(member):
    """Who is acting, as other services check it: admin flag and roles per hub."""
    return {"member_id": member["_id"], "is_admin": bool(member.get("is_admin")), "roles": {}}


def new_member(fields, password_hash, is_admin=False, now=None):
    member = {
        "_id": new_id(),
        "name": fields["name"],
        "phone": fields["phone"],
        "email": fields.get("email"),
        "preferred_channel": fields.get("preferred_channel") or DEFAULT_CHANNEL,
        "language": fields.get("language") or DEFAULT_LANGUAGE,
        "password_hash": password_hash,
        "is_admin": is_admin,
        "created_at": now or utcnow(),
    }
    record(member, "member_registered", contact(member))
    return member


def update_profile(member, changes):
    """Apply ``changes``; emits ``member_updated`` only when something changed."""
    changed = {k: v for k, v in changes.items() if k in PROFILE_FIELDS and member.get(k) != v}
    if not changed:
        return member
    member.update(changed)
    record(member, "member_updated", {**contact(member), "changed": sorted(changed)})
    return member


def lockout_after(failures):
    """How long logins stay refused after ``failures`` consecutive wrong passwords."""
    if failures < FREE_LOGIN_FAILURES:
        return datetime.timedelta(0)
    return min(FIRST_LOCKOUT * 2 ** (failures - FREE_LOGIN_FAILURES), LONGEST_LOCKOUT)


def check_not_locked(attempts, now=None):
    now = now or utcnow()
    locked_until = (attempts or {}).get("locked_until")
    if locked_until and locked_until > now:
        wait = int((locked_until - now).total_seconds()) + 1
        raise TooManyAttempts(
            f"Too many wrong passwords; wait {wait} seconds and try again.",
            {"retry_after": [str(wait)]},
        )
