from services.common.errors import (
    Conflict,
    Forbidden,
    NotFound,
    RateLimited,
    Unauthenticated,
    ValidationError,
)


class MemberNotFound(NotFound):
    pass


class HubNotFound(NotFound):
    pass


class MembershipNotFound(NotFound):
    pass


class TrainingNotFound(NotFound):
    pass


class PhoneAlreadyRegistered(Conflict):
    pass


class HubSlugTaken(Conflict):
    pass


class TrainingTaken(Conflict):
    pass


class InvalidTransition(Conflict):
    pass


class TrainingFull(Conflict):
    pass


class AlreadyEnrolled(Conflict):
    pass


class NotEnrolled(Conflict):
    pass


class NotAllowed(Forbidden):
    pass


class WrongCredentials(Unauthenticated):
    pass


class TooManyAttempts(RateLimited):
    pass


class CodeLimitReached(RateLimited):
    """A phone asked for more one-time codes than an hour allows."""


class WrongCode(ValidationError):
    pass


class CodeNotValid(ValidationError):
    """No code to try: never asked, expired, spent or voided."""
