from services.common.errors import EXPECTED
from services.common.events import subscribe
from services.common.remote import Remote
from services.common.rpc import rpc
from services.common.schemas import PageSchema, page_of
from services.common.service import HealthMixin
from services.common.storage import Storage
from services.messaging import contract, domain, schemas
from services.messaging.commands import Commands
from services.messaging.conversation import Conversation
from services.messaging.repository import MessagingRepository


class MessagingService(HealthMixin):
    """Text messages from members' phones (DESIGN §7): stored first, then handled once
    from their event; each command runs the RPC the HTTP API runs, as the member who
    sent it, and the reply goes out through notifications (docs/architecture.md)."""

    name = "messaging"

    store = Storage(MessagingRepository)
    remote = Remote()

    @property
    def conversation(self):
        return Conversation(self.store, Commands(self.remote, self.store))

    @rpc(expected_exceptions=EXPECTED)
    def receive(self, channel, payload):
        """``receive("sms", {"id": "SM123", "from": "0812…", "text": "CARI keripik"})``
        → ``{"accepted": true, "duplicate": false}`` once stored with its
        ``message_received`` event; the same id on the same channel again stores
        nothing (``duplicate: true``)."""
        return self.conversation.receive(channel, payload)

    @subscribe("messaging", contract.MESSAGE_RECEIVED)
    def handle_message_received(self, event):
        """Run the command and store the reply (with ``reply_ready``), at most once."""
        self.conversation.handle(event["data"]["message_id"])

    @rpc(expected_exceptions=EXPECTED)
    def list_my_messages(self, actor, query):
        """``list_my_messages(actor, {"page": 1, "page_size": 20})`` → the caller's text
        messages, newest first, each with our reply."""
        page = PageSchema().load_or_raise(query)
        items, total = self.store.list_for_member(actor["member_id"], **page)
        return page_of(schemas.MessageSchema(many=True).dump(items), total=total, **page)

    @rpc(expected_exceptions=EXPECTED)
    def list_hub_messages(self, actor, hub_id, query):
        """``list_hub_messages(coordinator, hub_id, {"page": 1})`` → the hub members'
        messages that were not understood, newest first, to call them back; the hub
        by id or slug."""
        hub = self.remote.community.get_hub(hub_id)  # an unknown hub is NotFound
        domain.check_can_read_hub_messages(actor, hub["id"])
        page = PageSchema().load_or_raise(query)
        items, total = self.store.list_not_understood(hub["id"], **page)
        return page_of(schemas.MessageSchema(many=True).dump(items), total=total, **page)
