from services.common.errors import Conflict, Forbidden, NotFound, RateLimited, Unauthenticated


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
