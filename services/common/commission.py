"""A hub's commission: the share of each sale the hub keeps for running the showroom
(docs: DESIGN §8). Community owns each hub's percent; orders fixes it on every order
when it is placed; both agree here on its bounds and on the default."""

DEFAULT_COMMISSION_PERCENT = 10
"""What a hub keeps until its coordinator sets another percent (and what an order
placed before hubs had one counts at)."""
MAX_COMMISSION_PERCENT = 50
"""Whole percent, from 0 to this."""
