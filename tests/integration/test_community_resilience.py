"""Community keeps working while notifications is away (docs/architecture.md §8, issue 3)."""

from tests.support.community import approve, hub_with_coordinator, pending_member
from tests.support.waiting import wait_until


def test_approvals_succeed_with_notifications_stopped_and_messages_follow_its_return(
    api, admin, stack, sms_sink, community_events
):
    hub = hub_with_coordinator(api, admin)
    stack.stop("notifications")

    seller = pending_member(api, hub.hub_id, name="Wati")
    approved = approve(hub.coordinator, seller.membership_id)
    assert approved["status"] == "approved"
    community_events.wait_for("membership_approved", membership_id=seller.membership_id)
    me = seller.client.get("/api/v1/me").json()
    assert me["memberships"][0]["status"] == "approved"
    phone = me["phone"]
    assert sms_sink.to(phone) == []

    stack.start("notifications")
    messages = wait_until(lambda: sms_sink.to(phone), timeout=15, message="SMS after return")
    assert "Wati" in messages[0]["message"]
