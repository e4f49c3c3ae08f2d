from services.common.errors import Conflict, NotFound, RateLimited, Unauthenticated


class MemberNotFound(NotFound):
    pass


class PhoneAlreadyRegistered(Conflict):
    pass


class WrongCredentials(Unauthenticated):
    pass


class TooManyAttempts(RateLimited):
    pass
