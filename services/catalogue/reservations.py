"""The catalogue's side of the order saga: take all of an order's stock or none, give
it back exactly once when the order is cancelled.

Each step is a conditional single-document update (see ``repository``), and the
reservation document of the order is the aggregate whose state change carries the
events, so a redelivered, duplicated or crash-resumed event never takes or returns
stock twice. An order announced again (orders does that while it waits for an answer)
is answered again with the decision already made, so a lost answer cannot leave the
order pending with its stock held.
"""

import logging

from services.catalogue import domain
from services.catalogue.contract import (
    CounterDecision,
    ReservedLine,
    Shortage,
    StockLevel,
    StockLow,
)
from services.catalogue.exceptions import ReservationBusy
from services.catalogue.repository import CatalogueRepository
from services.common.envelope import PublishedEvent
from services.common.types import Document

logger = logging.getLogger(__name__)


def known(levels: list[StockLevel | None]) -> list[StockLevel]:
    """The levels of the products that exist (an order may name an unknown one)."""
    return [level for level in levels if level is not None]


class Stockkeeper:
    def __init__(self, store: CatalogueRepository) -> None:
        self.store = store

    def reserve(self, event: PublishedEvent) -> None:
        """``order_placed``: reserve every line, or none and say what fell short."""
        data = event["data"]
        lines = domain.order_lines(data)
        reservation = self.store.open_reservation(
            domain.new_reservation(data["order_id"], data.get("hub_id"), lines)
        )
        if reservation is None:
            self._answer_again(data["order_id"])
            return
        self._decide(reservation, lines)

    def _decide(
        self, reservation: Document, lines: list[ReservedLine] | None, counter: bool = False
    ) -> None:
        """Take the lines' stock, all or none, and write the decision."""
        if lines is None:
            logger.warning("order %s has no valid items", reservation["_id"])
            domain.fail(reservation, [], reason=domain.INVALID_ITEMS, counter=counter)
        else:
            self._take_all(reservation, counter)
        self.store.move_reservation(reservation, from_state=domain.RESERVING)

    def _answer_again(self, order_id: str) -> None:
        """Already decided (or cancelled): say the decision again, take nothing."""
        reservation = self.store.get_reservation(order_id)
        if reservation is None or domain.answer_again(reservation) is None:
            return
        logger.info("order %s announced again: answering %s again", order_id, reservation["state"])
        self.store.move_reservation(reservation, from_state=reservation["state"])

    def sell(self, order_id: str, hub_id: str, items: object) -> CounterDecision:
        """A counter sale: take every line's stock or none, at once, by the same rules
        as an order's; the goods are sold there and then (nothing held). Once per
        order: a repeat hears the decision already made."""
        lines = domain.order_lines({"items": items})
        reservation = self.store.open_reservation(domain.new_reservation(order_id, hub_id, lines))
        if reservation is not None:
            self._decide(reservation, lines, counter=True)
        decided = self.store.get_reservation(order_id)
        assert decided is not None  # opened above, and none is ever deleted
        if decided["state"] == domain.SETTLED:
            products = [line["product_id"] for line in decided["items"]]
            self.store.drop_holds(order_id, products)  # again on a repeat: harmless
        return domain.counter_decision(decided)

    def _take_all(self, reservation: Document, counter: bool = False) -> None:
        """Take every line and confirm the reservation; or give back what was taken
        and fail it with the shortages (for a ``counter`` sale, see ``domain.confirm``)."""
        order_id = reservation["_id"]
        shortages: list[Shortage] = []
        unavailable: list[Shortage] = []
        low: list[StockLow] = []
        levels: list[StockLevel | None] = []
        for line in reservation["items"]:
            match self.store.take_stock(order_id, line):
                case "short", available:
                    shortages.append(domain.shortage(line, available))
                case "unavailable", _:
                    unavailable.append(domain.shortage(line, 0))
                case "taken", found:
                    levels.append(domain.stock_level(found))
                    if domain.crossed_low(found["stock"] + line["quantity"], found["stock"]):
                        low.append(domain.stock_low(found, found["stock"]))
                case "held", _:  # taken before a crash: as it is now
                    levels.append(self.store.stock_level(line["product_id"]))
        if shortages or unavailable:
            levels = [self.store.give_back(order_id, line) for line in reservation["items"]]
            if unavailable:  # a suspended seller's product: no stock helps
                reason = domain.PRODUCT_UNAVAILABLE
                failed = unavailable + shortages
                domain.fail(reservation, failed, reason, known(levels), counter=counter)
            else:
                domain.fail(reservation, shortages, levels=known(levels), counter=counter)
        else:
            domain.confirm(reservation, low, known(levels), counter=counter)

    def release(self, event: PublishedEvent) -> None:
        """``order_cancelled``: give back what the order holds, once."""
        order_id = event["data"]["order_id"]
        if self.store.add_tombstone(domain.tombstone(order_id)):
            return  # cancelled before it was placed: the order will reserve nothing
        reservation = self.store.get_reservation(order_id)
        assert reservation is not None  # the tombstone met it, and none is ever deleted
        if reservation["state"] == domain.RESERVING:
            raise ReservationBusy(f"Stock for order {order_id} is still being reserved.")
        if reservation["state"] == domain.RESERVED:
            # each hold comes back at most once
            levels = [self.store.give_back(order_id, line) for line in reservation["items"]]
            domain.release(reservation, known(levels))
            self.store.move_reservation(reservation, from_state=domain.RESERVED)

    def settle(self, event: PublishedEvent) -> None:
        """``order_status_changed`` to ``completed``: the reserved goods are sold;
        forget the holds (keeping the stock as it is)."""
        data = event["data"]
        if data.get("to_status") != "completed":
            return
        reservation = self.store.get_reservation(data["order_id"])
        if reservation is None or reservation["state"] not in (domain.RESERVED, domain.SETTLED):
            return
        if reservation["state"] == domain.RESERVED:
            reservation["state"] = domain.SETTLED
            self.store.move_reservation(reservation, from_state=domain.RESERVED)
        products = [line["product_id"] for line in reservation.get("items") or ()]
        self.store.drop_holds(data["order_id"], products)
