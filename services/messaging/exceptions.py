from services.common.errors import Forbidden, ValidationError


class NotAllowed(Forbidden):
    pass


class UnknownChannel(ValidationError):
    """Messages arrive by ``sms`` or ``whatsapp`` only."""
