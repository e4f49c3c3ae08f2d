"""What the domain tests read off an aggregate after a change."""

from services.common.envelope import PENDING_EVENTS


def events(aggregate):
    """The events the change recorded on ``aggregate``, as ``(type, data)``, taken off
    it so the next change starts with none."""
    return [(event["type"], event["data"]) for event in aggregate.pop(PENDING_EVENTS, [])]
