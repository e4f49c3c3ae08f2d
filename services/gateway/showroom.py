"""The gateway's own copy of the showroom (docs/architecture.md §18): the products on
show, fed by catalogue's events and rebuilt from catalogue, so that a showroom page or
a product answers without an RPC.

Every gateway process keeps its copy in memory and hears catalogue's events on queues
of its own (broadcasts: every process hears every event). Events arrive in any order
and may repeat; each carries the counters that order it among the others (a product's
``version`` for what it is and whether it is on show, its ``stock_version`` for its
stock), and the copy keeps, of each, the newest it heard. A product it no longer shows
is remembered by those counters, so an older event never brings it back.

The copy is rebuilt from catalogue's ``showroom_snapshot``, paged by id: when the
process starts, whenever its connection to the broker came back (its queues are the
process's own and lost what was published meanwhile), and every
``KOMPOR_SHOWROOM_RESYNC_SECONDS`` in case anything else was missed. The events heard
while a rebuild reads its pages are applied to the new copy too before it replaces the
old one, which answers meanwhile. Until the first rebuild is done, the routes ask
catalogue as before.

What is shown may lag catalogue by the time an event takes to arrive; catalogue (and
its order saga) stays the authority on stock.
"""

import bisect
import collections
import datetime
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from nameko.containers import WorkerContext
from nameko.extensions import DependencyProvider

from services.catalogue import schemas
from services.catalogue.contract import (
    APPROVED,
    NEWEST,
    SHOWROOM_ORDERS,
    showroom_filter,
    showroom_text,
)
from services.common import config as cfg
from services.common.consumer import QueueConsumer
from services.common.errors import ServiceUnavailable
from services.common.schemas import page_of
from services.gateway.http import json_text

logger = logging.getLogger(__name__)

RESYNC_KEY = "KOMPOR_SHOWROOM_RESYNC_SECONDS"
DEFAULT_RESYNC_SECONDS = 900.0
SNAPSHOT_PAGE = 500
RECENT_FILTERS = 256  # matches kept per layout: lists of references to the products
RETRY_MAX_SECONDS = 30.0
TIMES = ("reviewed_at", "created_at", "updated_at")
FILTERS = ("hub_id", "seller_id", "category", "code", "min_price", "max_price", "q")
NEVER = datetime.datetime.min.replace(tzinfo=datetime.UTC)
ON_SHOW_FIELDS = ("code", "name", "price", "hub_id")
"""What another part of the API learns of a product on show (a broadcast's products)."""

Key = tuple[Any, ...]
Source = dict[str, Any]
"""A product as catalogue stores it (``_id``, times as datetimes), plus its ``text``:
what catalogue's schemas dump and the showroom's filters and orders read."""


# made once: a schema's construction costs more than a showroom answer
PRODUCT = schemas.ProductSchema()
SUMMARY = schemas.ProductSummarySchema()
QUERY = schemas.ShowroomQuerySchema()


def _source(product_id: str, fields: Mapping[str, Any]) -> Source:
    """A product on show from an event's snapshot or a snapshot entry."""
    source = {name: fields.get(name) for name in PRODUCT.dump_fields}
    source.pop("id")
    source.update(_id=product_id, rejection_reason=None)
    for name in TIMES:
        moment = source[name]
        if isinstance(moment, str):
            source[name] = datetime.datetime.fromisoformat(moment)
    source["text"] = showroom_text(source["name"], source["description"])
    return source


class Item:
    """One product the copy has heard of; ``source`` is ``None`` while it is not on
    show (never was, or left)."""

    __slots__ = ("_detail", "_summary", "source", "stock", "stock_at", "stock_version", "version")

    def __init__(self) -> None:
        self.version = -1  # below any version catalogue gives
        self.source: Source | None = None
        self.stock = 0
        self.stock_version = -1
        self.stock_at = NEVER  # when its seller last changed its stock
        self._summary: str | None = None
        self._detail: str | None = None

    def changed(self) -> None:
        self._summary = self._detail = None

    def summary(self) -> str:
        if self._summary is None:
            dumped = SUMMARY.dump({**self._shown(), "stock": self.stock})
            self._summary = json_text(dumped)
        return self._summary

    def detail(self) -> str:
        if self._detail is None:
            shown = self._shown()
            updated_at = max(shown["updated_at"], self.stock_at)
            dumped = PRODUCT.dump({**shown, "stock": self.stock, "updated_at": updated_at})
            self._detail = json_text(dumped)
        return self._detail

    def _shown(self) -> Source:
        assert self.source is not None, "only a product on show is answered"
        return self.source


class Showroom:
    """The products on show, with every product's newest counters; listed per hub and
    for all hubs in each of the showroom's orders, kept sorted as changes come."""

    def __init__(self) -> None:
        self.items: dict[str, Item] = {}
        # (hub or None for all, sort) → the products on show, by the sort's key ascending
        self.listed: dict[tuple[str | None, str], list[Source]] = {}
        self.layout = 0  # a change of what is on show, or of what filters and orders read
        self._recent: collections.OrderedDict[Key, list[Source]] = collections.OrderedDict()
        self._recent_layout = 0

    @classmethod
    def of(cls, entries: Iterable[Mapping[str, Any]]) -> "Showroom":
        """A copy of the products on show that ``catalogue.showroom_snapshot`` gives
        (entries), sorted once at the end rather than one by one."""
        showroom = cls()
        for entry in entries:
            product_id = entry["id"]
            source = _source(product_id, entry)
            showroom._put(product_id, entry["version"], source, listing=False)
            showroom._level(showroom.items[product_id], entry["stock"], entry["stock_version"])
        for item in showroom.items.values():
            if item.source is not None:
                for sort, hub_id in showroom._scopes(item.source):
                    showroom.listed.setdefault((hub_id, sort), []).append(item.source)
        for (_, sort), sources in showroom.listed.items():
            sources.sort(key=SHOWROOM_ORDERS[sort])
        return showroom

    def __len__(self) -> int:
        return len(self.listed.get((None, NEWEST), ()))

    # --- changes -----------------------------------------------------------------

    def product_changed(self, data: Mapping[str, Any]) -> None:
        """A product event's snapshot: the product as its ``version`` has it."""
        product_id = data["product_id"]
        source = _source(product_id, data) if data["on_show"] else None
        self._put(product_id, data["version"], source)
        self._level(self.items[product_id], data["stock"], data["stock_version"])

    def stock_changed(self, data: Mapping[str, Any]) -> None:
        """``stock_changed``: its seller's change moves ``updated_at`` too."""
        updated_at = datetime.datetime.fromisoformat(data["updated_at"])
        self._level(
            self._item(data["product_id"]), data["stock"], data["stock_version"], updated_at
        )

    def stock_moved(self, data: Mapping[str, Any]) -> None:
        """The saga's events: each product's stock level after it moved."""
        for level in data.get("levels") or ():
            self._level(self._item(level["product_id"]), level["stock"], level["stock_version"])

    def _item(self, product_id: str) -> Item:
        item = self.items.get(product_id)
        if item is None:
            item = self.items[product_id] = Item()
        return item

    def _put(
        self, product_id: str, version: int, source: Source | None, listing: bool = True
    ) -> None:
        item = self._item(product_id)
        if version <= item.version:
            return
        if listing and item.source is not None:
            self._unlist(item.source)
        item.version, item.source = version, source
        if listing and source is not None:
            self._list(source)
        item.changed()
        self.layout += 1

    def _level(
        self, item: Item, stock: int, stock_version: int, at: datetime.datetime | None = None
    ) -> None:
        if stock_version <= item.stock_version:
            return
        item.stock, item.stock_version = stock, stock_version
        item.stock_at = max(item.stock_at, at or NEVER)
        item.changed()

    @staticmethod
    def _scopes(source: Source) -> Iterable[tuple[str, str | None]]:
        for sort in SHOWROOM_ORDERS:
            yield sort, None
            yield sort, source["hub_id"]

    def _list(self, source: Source) -> None:
        for sort, hub_id in self._scopes(source):
            listed = self.listed.setdefault((hub_id, sort), [])
            bisect.insort(listed, source, key=SHOWROOM_ORDERS[sort])

    def _unlist(self, source: Source) -> None:
        for sort, hub_id in self._scopes(source):
            listed, order = self.listed[(hub_id, sort)], SHOWROOM_ORDERS[sort]
            del listed[bisect.bisect_left(listed, order(source), key=order)]

    # --- answers -----------------------------------------------------------------

    def detail(self, product_id: str) -> str | None:
        """The product as ``GET /products/{id}`` shows it, or ``None`` when not on show."""
        item = self.items.get(product_id)
        return item.detail() if item is not None and item.source is not None else None

    def page(self, query: Mapping[str, Any]) -> str:
        """The page of the showroom ``query`` asks for (loaded by ``ShowroomQuerySchema``,
        approved products), as ``GET /products`` answers it."""
        page, page_size = query["page"], query["page_size"]
        start = (page - 1) * page_size
        sources, total = self._matching(query, start, page_size)
        items = ",".join(self.items[source["_id"]].summary() for source in sources)
        # the envelope as any list answers it, with the items' kept JSON in place of
        # its empty list (the first "[]" of it: nothing comes before the items)
        return json_text(page_of([], page, page_size, total)).replace("[]", f"[{items}]", 1)

    def _matching(
        self, query: Mapping[str, Any], start: int, size: int
    ) -> tuple[list[Source], int]:
        """The page's products from ``start``, and how many match in all."""
        sort = query["sort"]
        listed = self.listed.get((query.get("hub_id"), sort), [])
        select = showroom_filter(query)
        if select is None:  # the list itself, read from its end (largest key first)
            end = max(len(listed) - start, 0)
            return listed[max(end - size, 0) : end][::-1], len(listed)
        # a filter's matches stay right until something on show changes (stock moves
        # none of them): the next page, or the next buyer asking the same, reuses them
        if self._recent_layout != self.layout:
            self._recent.clear()
            self._recent_layout = self.layout
        key = (sort, *sorted((name, query[name]) for name in FILTERS if query.get(name)))
        matches = self._recent.get(key)
        if matches is None:
            matches = self._recent[key] = select(reversed(listed))
            if len(self._recent) > RECENT_FILTERS:
                self._recent.popitem(last=False)
        else:
            self._recent.move_to_end(key)
        return matches[start : start + size], len(matches)


class ShowroomCopy(DependencyProvider):
    """``self.showroom`` in the gateway: answers from the copy when it can
    (``page``, ``product``: ``None`` when catalogue must answer), takes catalogue's
    events, and rebuilds the copy when due (``sync``)."""

    # the listeners' consumer: each time it (re)connects, their queues are new
    queue_consumer = QueueConsumer()

    def setup(self) -> None:
        config = self.container.config
        self.resync_seconds = float(cfg.setting(config, RESYNC_KEY, DEFAULT_RESYNC_SECONDS))
        self.model = Showroom()
        self.ready = False
        self.synced_connection = 0  # the consumer's connection the copy is in step with
        self.synced_at = 0.0
        self.failures = 0
        self.retry_at = 0.0
        self.heard: list[tuple[Callable[[Showroom, Any], None], Any]] | None = None

    def get_dependency(self, worker_ctx: WorkerContext) -> "ShowroomCopy":
        return self

    # --- answers: ``None`` where the copy cannot answer, and catalogue should ------

    def page(self, params: Mapping[str, Any]) -> str | None:
        """The showroom page for these query parameters, checked as catalogue checks
        them; ``None`` before the first rebuild or for other than approved products."""
        if not self.ready:
            return None
        query = QUERY.load_or_raise(params)
        return self.model.page(query) if query["status"] == APPROVED else None

    def product(self, product_id: str) -> str | None:
        """A product on show; ``None`` when the copy does not show it (not ready, not
        heard of yet, or not on show: catalogue says which)."""
        return self.model.detail(product_id) if self.ready else None

    def on_show(self, product_id: str) -> dict[str, Any] | None:
        """``{id, code, name, price, hub_id}`` of a product on show (approved, its
        seller not suspended), ``None`` when the copy does not show it;
        ``ServiceUnavailable`` before the first rebuild."""
        if not self.ready:
            raise ServiceUnavailable("The showroom is still loading; try again in a moment.")
        item = self.model.items.get(product_id)
        source = None if item is None else item.source
        if source is None:
            return None
        return {"id": product_id, **{field: source[field] for field in ON_SHOW_FIELDS}}

    # --- catalogue's events ------------------------------------------------------

    def apply(self, change: Callable[[Showroom, Any], None], data: Any) -> None:
        """``apply(Showroom.product_changed, event["data"])``: to the copy, and to the
        one a rebuild is making."""
        change(self.model, data)
        if self.heard is not None:
            self.heard.append((change, data))

    # --- rebuilding --------------------------------------------------------------

    def sync(self, catalogue: Any) -> None:
        """Rebuild the copy from ``catalogue`` (its RPC proxy) when due: once the
        listeners consume, again after each reconnection, and every
        ``resync_seconds``; after a failure, retried with a growing pause."""
        connection = self.queue_consumer.connections
        now = time.monotonic()
        stale = connection != self.synced_connection or now - self.synced_at > self.resync_seconds
        if not connection or not stale or now < self.retry_at:
            return
        try:
            self.model = self._rebuilt(catalogue)
        except Exception as exc:  # the copy answers on as it is; the next try is later
            self.failures += 1
            self.retry_at = now + min(2.0**self.failures, RETRY_MAX_SECONDS)
            unexpected = not isinstance(exc, ServiceUnavailable)
            logger.warning(
                "showroom copy not rebuilt (try %s): %r", self.failures, exc, exc_info=unexpected
            )
            return
        self.failures = 0
        self.synced_connection, self.synced_at, self.ready = connection, now, True
        logger.info("showroom copy rebuilt: %s products on show", len(self.model))

    def _rebuilt(self, catalogue: Any) -> Showroom:
        self.heard = []
        try:
            fresh = Showroom.of(self._snapshot(catalogue))
            # no pause from here to the swap: nothing is heard in between
            for change, data in self.heard:
                change(fresh, data)
            return fresh
        finally:
            self.heard = None

    @staticmethod
    def _snapshot(catalogue: Any) -> Iterable[Mapping[str, Any]]:
        after = None
        while True:
            page = catalogue.showroom_snapshot({"after": after, "limit": SNAPSHOT_PAGE})
            yield from page["items"]
            after = page["next"]
            if after is None:
                return
