from services.common.errors import (
    Conflict,
    Forbidden,
    NotFound,
    ServiceUnavailable,
    ValidationError,
)


class OrderNotFound(NotFound):
    pass


class ProductNotAvailable(NotFound):
    """An item names a product that is unknown or not approved for sale."""


class ItemsNotInHub(ValidationError):
    """An item's product belongs to another hub than the order."""


class IdempotencyKeyReused(Conflict):
    """The ``Idempotency-Key`` was already used by this buyer for a different order."""


class InvalidTransition(Conflict):
    """The order cannot move from its current state to the requested one."""


class NotAllowed(Forbidden):
    pass


class NotEnoughStock(Conflict):
    """A counter sale asked for more than the showroom has."""


class AgentNotKnownYet(ServiceUnavailable):
    """The caller is an agent of the hub, but their appointment has not reached orders
    yet (community's ``agent_appointed`` is on its way): a retry in a moment works."""
