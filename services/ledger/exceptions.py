from services.common.errors import Conflict, Forbidden, NotFound


class NotAllowed(Forbidden):
    pass


class NotASeller(Conflict):
    """A payout or adjustment names a member who was never an approved seller of the
    hub."""


class SellerNotFound(NotFound):
    """A statement of a member the hub has never had as a seller."""


class InsufficientBalance(Conflict):
    """A payout, or a negative adjustment, larger than what the hub owes the seller."""


class LedgerBusy(Conflict):
    """The account kept changing under a write (many writes at once); retry."""


class NotAnAgent(Conflict):
    """A payout names an agent the ledger never heard was appointed in the hub."""


class AgentNotFound(NotFound):
    """A statement of an agent the hub does not have."""
