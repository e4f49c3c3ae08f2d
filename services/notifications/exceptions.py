class DeliveryFailed(Exception):
    """A channel could not hand a message to its provider (retried later)."""


class ChannelNotConfigured(DeliveryFailed):
    """The channel has no provider configured (falls back to SMS)."""
