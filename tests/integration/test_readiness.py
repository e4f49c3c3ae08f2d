"""Ready means ready: once a service answers, what it sets up at start is there."""

import eventlet
from argon2 import PasswordHasher
from nameko.exceptions import UnknownService
from nameko.standalone.rpc import ServiceRpcProxy

from services.common import auth
from services.community.service import CommunityService
from tests.support.api import KOMPOR_ADMIN_PASSWORD, KOMPOR_ADMIN_PHONE
from tests.support.waiting import wait_until


def answers(service):
    try:
        return service.health()["status"] == "ok"
    except UnknownService:  # its queue is not there yet
        return False


def test_the_admin_can_log_in_as_soon_as_community_answers(container_factory, config, monkeypatch):
    # hashing at its production cost, so a bootstrap that ran late would show
    monkeypatch.setattr(auth, "_hasher", PasswordHasher())
    container = container_factory(CommunityService, config)
    with ServiceRpcProxy("community", config, timeout=30) as community:
        starting = eventlet.spawn(container.start)
        wait_until(lambda: answers(community), timeout=30, interval=0.01, message="health")
        token = community.issue_token(
            {"phone": KOMPOR_ADMIN_PHONE, "password": KOMPOR_ADMIN_PASSWORD}
        )
        assert community.authenticate(token["access_token"])["is_admin"] is True
        starting.wait()
