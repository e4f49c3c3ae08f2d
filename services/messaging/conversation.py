"""An inbound message's way through messaging: stored with its event, then handled
once (claimed under a lease, finished with a conditional write), its reply stored on it
with ``reply_ready`` in the same write."""

import logging
from collections.abc import Mapping
from typing import Any

from services.messaging import domain, parser, replies, schemas
from services.messaging.commands import Commands
from services.messaging.contract import CHANNELS
from services.messaging.exceptions import UnknownChannel
from services.messaging.repository import MessagingRepository

logger = logging.getLogger(__name__)


class Conversation:
    def __init__(self, store: MessagingRepository, commands: Commands) -> None:
        self.store = store
        self.commands = commands

    def receive(self, channel: str, payload: Mapping[str, Any]) -> dict[str, bool]:
        if channel not in CHANNELS:
            raise UnknownChannel(
                f"Messages arrive by {' or '.join(CHANNELS)}.", {"channel": list(CHANNELS)}
            )
        fields = schemas.InboundSchema().load_or_raise(payload)
        stored = self.store.add_message(domain.new_message(channel, fields))
        return {"accepted": True, "duplicate": stored is None}

    def handle(self, message_id: str) -> None:
        """Answer the message unless it was answered already. A failure that is not
        the member's doing leaves it unanswered and raises: the event comes again."""
        message = self.store.claim(message_id)
        if message is None:
            if not self.store.is_handled(message_id):
                # another worker holds it: its lease runs out if it died, and the
                # retry of this event finds it free then
                raise RuntimeError(f"message {message_id} is being handled elsewhere")
            return
        try:
            self._answer(message)
        except BaseException:
            self.store.release(message_id)
            raise

    def _answer(self, message: dict[str, Any]) -> None:
        command = parser.parse(message["text"])
        sender = self.commands.sender(message["phone"])
        message["language"] = domain.language_of(command, sender.member)
        reply_key, values = self.commands.run(message, command, sender)
        if reply_key == "registered" and sender.member is None:
            sender = self.commands.sender(message["phone"])
        language = domain.language_of(command, sender.member)
        text: str | None = replies.render(reply_key, language, **values)
        recent = self.store.recent_replies(message["phone"])
        if not domain.should_reply(reply_key, message["text"], recent):
            logger.info("not answering message %s (a loop guard holds)", message["_id"])
            text = None
        done = domain.handled(
            message, command, sender.member, sender.actor, reply_key, text, language
        )
        self.store.finish(done)
