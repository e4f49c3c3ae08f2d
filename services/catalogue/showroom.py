"""The showroom shelf: approved products held in memory by each catalogue process.

Showroom queries (approved products, filtered, sorted and paged) are the catalogue's
busiest read. The embedded store answers a query by decoding, filtering and sorting
every product in Python, about a second for 10,000 products, and nothing else runs
in that process meanwhile. So each process keeps the approved products in compact
form, sorted in every order the showroom offers, and answers from memory. Only the
stock of the page it returns is read fresh.

The shelf is rebuilt when the store's *showroom version* has changed (every product
edit or curation decision bumps it, whichever replica made it) and in any case after
``SHELF_TTL``, which bounds how stale a crash between a write and its bump leaves it.
Other listings (products under review, a seller's own) go to the store.
"""

import bisect
import collections
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any, TypeGuard

from nameko.containers import WorkerContext
from nameko.extensions import DependencyProvider

from services.catalogue import domain
from services.catalogue.contract import NEWEST, SHOWROOM_ORDERS, showroom_filter, showroom_text
from services.catalogue.repository import CatalogueRepository
from services.common.types import Document

SHELF_TTL = 300.0
RECENT_FILTERS = 256  # matches kept per shelf: lists of references to its items


def _orders(items: list[Document]) -> dict[str, list[Document]]:
    return {sort: sorted(items, key=key, reverse=True) for sort, key in SHOWROOM_ORDERS.items()}


class Shelf:
    """Approved products, pre-sorted in each order, for all hubs and for each hub."""

    def __init__(self, products: Iterable[Document], version: int, built_at: float) -> None:
        self.version = version
        self.built_at = built_at
        items: list[Document] = [
            {
                **{key: product.get(key) for key in domain.SHELF_FIELDS},
                "text": showroom_text(product.get("name"), product.get("description")),
            }
            for product in products
        ]
        self.orders = _orders(items)
        self.ids = sorted(item["_id"] for item in items)
        hubs: dict[str, list[Document]] = {}
        for item in items:
            hubs.setdefault(item["hub_id"], []).append(item)
        self.hubs = {hub_id: _orders(hub_items) for hub_id, hub_items in hubs.items()}
        # filter → its matches, newest use last
        self._recent: collections.OrderedDict[tuple[Any, ...], list[Document]] = (
            collections.OrderedDict()
        )

    def __len__(self) -> int:
        return len(self.orders[NEWEST])

    def search(
        self, query: Mapping[str, Any], page: int, page_size: int, sort: str = NEWEST
    ) -> tuple[list[Document], int]:
        """A page of items matching ``query``'s filters, and how many match."""
        matches = self._matching(query, sort)
        start = (page - 1) * page_size
        return matches[start : start + page_size], len(matches)

    def ids_after(self, after: str | None, limit: int) -> list[str]:
        """Up to ``limit`` ids of the shelf's products, in order, after ``after``."""
        start = 0 if after is None else bisect.bisect_right(self.ids, after)
        return self.ids[start : start + limit]

    def _matching(self, query: Mapping[str, Any], sort: str) -> list[Document]:
        # the shelf never changes, so the matches of a recent filter are still right:
        # the next page, or the next buyer browsing the same hub and category, reuses
        # them instead of testing every product again
        key = (sort, *sorted(query.items()))
        matches = self._recent.get(key)
        if matches is not None:
            self._recent.move_to_end(key)
            return matches
        if query.get("hub_id"):
            candidates = self.hubs.get(query["hub_id"], {}).get(sort, [])
        else:
            candidates = self.orders[sort]
        select = showroom_filter(query)
        matches = candidates if select is None else select(candidates)
        self._recent[key] = matches
        if len(self._recent) > RECENT_FILTERS:
            self._recent.popitem(last=False)
        return matches


class Showroom(DependencyProvider):
    """``self.showroom.search(self.store, query, page, page_size, sort)``."""

    def setup(self) -> None:
        self.shelf: Shelf | None = None
        self.lock = threading.Lock()

    def get_dependency(self, worker_ctx: WorkerContext) -> "Showroom":
        return self

    def search(
        self,
        store: CatalogueRepository,
        query: Mapping[str, Any],
        page: int,
        page_size: int,
        sort: str = NEWEST,
    ) -> tuple[list[Document], int]:
        if query.get("status", domain.APPROVED) != domain.APPROVED:
            return store.find_products(query, page, page_size, sort)
        items, total = self.current(store).search(query, page, page_size, sort)
        stock = store.current_stock([item["_id"] for item in items])
        return [{**item, "stock": stock.get(item["_id"], item["stock"])} for item in items], total

    def snapshot(
        self, store: CatalogueRepository, after: str | None, limit: int
    ) -> tuple[list[Document], str | None]:
        """A page of the products on show, by id after ``after``, and the id to ask
        after next (``None``: that was the last page).

        The first page is read from a shelf built now: whoever copies the showroom
        listens to its changes first and then asks, so a change is either in the
        store by then or on its way as an event. Later pages go by id, so a product
        added or removed meanwhile (its event tells) moves no other across a page."""
        since = time.monotonic() if after is None else None
        ids = self.current(store, since).ids_after(after, limit)
        found = sorted(store.products_by_id(ids), key=lambda product: product["_id"])
        shown = [product for product in found if domain.on_show(product)]
        return shown, (ids[-1] if len(ids) == limit else None)

    def current(self, store: CatalogueRepository, since: float | None = None) -> Shelf:
        """The shelf, rebuilt if the store changed since it was built (or it was built
        before ``since``)."""
        shelf = self.shelf
        if self._fresh(shelf, store.showroom_version(), since):
            return shelf
        with self.lock:  # one rebuild at a time; the others then use its result
            # read the version before the products: a write that lands in between
            # bumps it again, so the next query rebuilds rather than missing it
            version = store.showroom_version()
            if not self._fresh(self.shelf, version, since):
                self.shelf = Shelf(store.approved_products(), version, time.monotonic())
            return self.shelf

    @staticmethod
    def _fresh(shelf: Shelf | None, version: int, since: float | None) -> TypeGuard[Shelf]:
        return (
            shelf is not None
            and shelf.version == version
            and time.monotonic() - shelf.built_at < SHELF_TTL
            and (since is None or shelf.built_at >= since)
        )
