from services.common.errors import Conflict, Forbidden, NotFound, ValidationError


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
