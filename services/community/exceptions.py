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


class AgentNotFound(NotFound):
    pass


class GroupNotFound(NotFound):
    pass


class BroadcastNotFound(NotFound):
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


class NotAMember(Conflict):
    """Only an approved member of a hub can be appointed its agent."""


class AgentAlreadyAppointed(Conflict):
    pass


class GroupTaken(Conflict):
    pass


class GroupHasNoContacts(Conflict):
    pass


class BroadcastAlreadySent(Conflict):
    """A group gets at most one broadcast a day (WIB)."""


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
