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

import collections
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeGuard

from nameko.containers import WorkerContext
from nameko.extensions import DependencyProvider

from services.catalogue import domain
from services.catalogue.contract import NEWEST, PRICE_ASC, PRICE_DESC
from services.catalogue.repository import CatalogueRepository
from services.common.types import Document

SHELF_TTL = 300.0
RECENT_FILTERS = 256  # matches kept per shelf: lists of references to its items


def _text(product: Document) -> str:
    return f"{product.get('name', '')}\n{product.get('description', '')}".casefold()


def matcher(query: Mapping[str, Any]) -> Callable[[Document], bool] | None:
    """A test of a shelf item against the showroom filters in ``query`` other than
    ``hub_id``; ``None`` when there are none."""
    equal = {key: query[key] for key in ("seller_id", "category", "code") if query.get(key)}
    low, high = query.get("min_price"), query.get("max_price")
    # a plain substring test: the user's text is never a pattern or an operator
    words = query["q"].casefold() if query.get("q") else None
    if not equal and low is None and high is None and words is None:
        return None

    def wanted(item: Document) -> bool:
        return (
            all(item[key] == value for key, value in equal.items())
            and (low is None or item["price"] >= low)
            and (high is None or item["price"] <= high)
            and (words is None or words in item["text"])
        )

    return wanted


def _orders(items: list[Document]) -> dict[str, list[Document]]:
    # newest first, then (stable) by price: equal prices stay newest first
    newest = sorted(items, key=lambda item: (item["created_at"], item["_id"]), reverse=True)
    return {
        NEWEST: newest,
        PRICE_ASC: sorted(newest, key=lambda item: item["price"]),
        PRICE_DESC: sorted(newest, key=lambda item: item["price"], reverse=True),
    }


class Shelf:
    """Approved products, pre-sorted in each order, for all hubs and for each hub."""

    def __init__(self, products: Iterable[Document], version: int, built_at: float) -> None:
        self.version = version
        self.built_at = built_at
        items: list[Document] = [
            {**{key: product.get(key) for key in domain.SHELF_FIELDS}, "text": _text(product)}
            for product in products
        ]
        self.orders = _orders(items)
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
        wanted = matcher(query)
        matches = candidates if wanted is None else [item for item in candidates if wanted(item)]
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

    def current(self, store: CatalogueRepository) -> Shelf:
        shelf = self.shelf
        if self._fresh(shelf, store.showroom_version()):
            return shelf
        with self.lock:  # one rebuild at a time; the others then use its result
            # read the version before the products: a write that lands in between
            # bumps it again, so the next query rebuilds rather than missing it
            version = store.showroom_version()
            if not self._fresh(self.shelf, version):
                self.shelf = Shelf(store.approved_products(), version, time.monotonic())
            return self.shelf

    @staticmethod
    def _fresh(shelf: Shelf | None, version: int) -> TypeGuard[Shelf]:
        return (
            shelf is not None
            and shelf.version == version
            and time.monotonic() - shelf.built_at < SHELF_TTL
        )
