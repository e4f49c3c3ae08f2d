from services.common.errors import Conflict, Forbidden, NotFound


class ProductNotFound(NotFound):
    pass


class NotASeller(Forbidden):
    """The caller is not an approved seller of the hub."""


class NotYourProduct(Forbidden):
    """Only the product's own seller may change it."""


class NotTheCoordinator(Forbidden):
    """Only a coordinator of the product's hub curates it."""


class NotEnoughStock(Conflict):
    pass


class ProductOfAnotherHub(Conflict):
    """The product is shown at another hub than the one asked about."""


class ReservationBusy(Conflict):
    """Another worker is reserving stock for this order right now; the event is retried."""
