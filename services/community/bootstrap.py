"""The operator account of ``KOMPOR_ADMIN_PHONE``/``KOMPOR_ADMIN_PASSWORD``, created
when the community service starts if it is absent.

An account someone else registered with that phone is never promoted: whoever
registered first would otherwise become the admin. The service refuses to start
instead, and the operator picks another phone."""

import logging

from nameko.extensions import DependencyProvider

from services.common import config as cfg
from services.common.auth import hash_password
from services.common.phone import mask_phone, normalise_phone
from services.common.storage import Storage, prepared_db
from services.community import domain
from services.community.exceptions import PhoneAlreadyRegistered
from services.community.repository import CommunityRepository

logger = logging.getLogger(__name__)

ADMIN_PHONE_KEY = "KOMPOR_ADMIN_PHONE"
ADMIN_PASSWORD_KEY = "KOMPOR_ADMIN_PASSWORD"
MIN_ADMIN_PASSWORD_LENGTH = 12


class AdminPhoneTaken(Exception):
    """``KOMPOR_ADMIN_PHONE`` belongs to a member who is not an admin."""


def ensure_admin(repository, phone, password):
    """Create the admin if absent; returns its id if this call created it."""
    member = repository.find_member_by_phone(phone)
    if member is None:
        admin = domain.new_member(
            {"name": "Admin KOMPOR DESA", "phone": phone}, hash_password(password), is_admin=True
        )
        try:
            repository.add_member(admin)
        except PhoneAlreadyRegistered:  # a replica created it first, or someone registered
            return _refuse_unless_admin(repository.find_member_by_phone(phone), phone)
        logger.info("created the admin account %s", mask_phone(phone))
        return admin["_id"]
    return _refuse_unless_admin(member, phone)


def _refuse_unless_admin(member, phone):
    if not member.get("is_admin"):
        raise AdminPhoneTaken(
            f"{ADMIN_PHONE_KEY} {phone} belongs to a member who registered it and is "
            "not an admin; refusing to make them one. Set another phone for the admin."
        )
    return None


class AdminBootstrap(DependencyProvider):
    """The account is written in ``setup``, which every extension finishes before any
    entrypoint starts: once the service answers (``/readyz``), the admin can log in.
    Its events go out in ``start``, as any write's would."""

    def setup(self):
        self.changed = None
        config = self.container.config
        phone = cfg.setting(config, ADMIN_PHONE_KEY)
        password = cfg.setting(config, ADMIN_PASSWORD_KEY)
        if not (phone and password):
            return
        cfg.require_min_length(ADMIN_PASSWORD_KEY, str(password), MIN_ADMIN_PASSWORD_LENGTH)
        repository = CommunityRepository(prepared_db(self.container, CommunityRepository))
        self.changed = ensure_admin(repository, normalise_phone(phone), str(password))

    def start(self):
        if self.changed is not None:
            store = next(d for d in self.container.dependencies if isinstance(d, Storage))
            store.relay.relay("members", self.changed)
