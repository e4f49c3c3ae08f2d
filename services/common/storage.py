"""Storage: repositories over the service's own database, and the provider that
hands them to workers and relays the events they wrote."""

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from nameko.containers import ServiceContainer, WorkerContext
from nameko.extensions import DependencyProvider
from prometheus_client.metrics_core import Metric
from pymongo import ASCENDING, IndexModel, ReturnDocument
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from services.common.envelope import OUTBOX_PENDING, PENDING_EVENTS, OutboxEntry, utcnow
from services.common.errors import Conflict
from services.common.events import LEASE, OutboxRelay
from services.common.metrics import gauges, outbox_backlog, outbox_probe, register_probe
from services.common.mongo import database_name, mongo_client
from services.common.types import Document, Query

# what a save never writes back from the document it read: the relay manages these
NOT_STATE = ("_id", "version", "outbox", "outbox_lease", OUTBOX_PENDING)


def with_events(update: Query, events: Sequence[OutboxEntry]) -> Query:
    """The MongoDB ``update`` plus what appends ``events`` to the aggregate's outbox
    and raises the flag the relay's sweep looks for: for a write that goes through
    none of ``Repository.insert``, ``save``, ``write`` and ``update``."""
    if not events:
        return update
    return {
        **update,
        "$push": {**update.get("$push", {}), "outbox": {"$each": events}},
        "$set": {**update.get("$set", {}), OUTBOX_PENDING: True},
    }


def _claiming(query: Query, update: Query, events: Sequence[OutboxEntry]) -> tuple[Query, Query]:
    """``query`` and ``update`` of a write that also claims the outbox for the relay
    (a lease), on the condition that no earlier event waits in it: then, after the
    write, the outbox holds ``events`` and nothing else, and the relay publishes them
    without reading the document again. Earlier events wait only after a failure (the
    broker away, a crash); a write finding some leaves its own behind them for the
    sweep, which publishes them all in order."""
    appended = with_events(update, events)
    leased = {**appended, "$set": {**appended["$set"], "outbox_lease": utcnow() + LEASE}}
    return {"$and": [query, {OUTBOX_PENDING: {"$ne": True}}]}, leased


class Repository:
    """Base of each service's repository.

    Subclasses declare ``indexes`` ({collection: [IndexModel, …]}, created at start)
    and ``aggregates`` (collections whose documents carry an ``outbox`` of pending
    events), and use ``insert``/``save`` so that state and events are written in one
    atomic single-document operation.
    """

    indexes: ClassVar[dict[str, list[IndexModel]]] = {}
    aggregates: ClassVar[tuple[str, ...]] = ()

    def __init__(self, db: Database[Document], relay: OutboxRelay | None = None) -> None:
        self.db = db
        self._relay = relay

    def backlog(self) -> dict[str, float]:
        """What waits in this service's store, for its ``health(True)`` RPC:
        ``outbox_waiting`` and ``outbox_oldest_seconds`` across its aggregates, and
        the repository's ``own_backlog()``."""
        waiting, oldest = 0, 0.0
        for collection in self.aggregates:
            count, age = outbox_backlog(self.db, collection)
            waiting, oldest = waiting + count, max(oldest, age)
        outbox = {"outbox_waiting": waiting, "outbox_oldest_seconds": round(oldest, 3)}
        return {**outbox, **self.own_backlog()}

    def own_backlog(self) -> dict[str, float]:
        """What else waits in the store, by name (a repository overrides this; also
        exported as ``kompor_backlog{what=…}``); nothing by default."""
        return {}

    def write(
        self,
        collection: str,
        query: Query,
        update: Query,
        events: Sequence[OutboxEntry],
        projection: Mapping[str, Any] | None = None,
    ) -> Document | None:
        """``update`` the document ``query`` finds and append ``events`` to its outbox,
        in one ``find_one_and_update``; the document as it is after (``projection``
        applied), or ``None`` when none matched.

        The events go out before the caller hears "done": the write itself claims the
        outbox for the relay (``_claiming``), which publishes them at once and clears
        them. When the broker is away, or earlier events still wait, they stay for the
        relay's sweep."""
        documents = self.db[collection]
        if events and self._relay is not None:
            claimed = documents.find_one_and_update(
                *_claiming(query, update, events),
                projection=projection,
                return_document=ReturnDocument.AFTER,
            )
            if claimed is not None:
                self._relay.publish(collection, claimed["_id"], events)
                return claimed
        written: Document | None = documents.find_one_and_update(
            query,
            with_events(update, events),
            projection=projection,
            return_document=ReturnDocument.AFTER,
        )
        return written

    def update(
        self, collection: str, query: Query, update: Query, events: Sequence[OutboxEntry]
    ) -> bool:
        """``write`` for a caller that needs no document back (one ``update_one``, which
        the store does with less work); ``query`` names the document by its ``_id``.
        Whether it matched."""
        documents = self.db[collection]
        if events and self._relay is not None:
            if documents.update_one(*_claiming(query, update, events)).matched_count:
                self._relay.publish(collection, query["_id"], events)
                return True
        return documents.update_one(query, with_events(update, events)).matched_count > 0

    def insert(self, collection: str, document: Document) -> Document:
        """Insert a new aggregate with its pending events in its outbox, claimed for
        the relay, which publishes them at once."""
        events = document.pop(PENDING_EVENTS, [])
        document["version"] = 1
        document["outbox"] = events
        document[OUTBOX_PENDING] = bool(events)
        relay = self._relay if events else None
        if relay is not None:
            document["outbox_lease"] = utcnow() + LEASE
        self.db[collection].insert_one(document)
        if relay is not None:
            relay.publish(collection, document["_id"], events)
        return document

    def insert_or_find(
        self, collection: str, document: Document, key: Sequence[str] = ("_id",)
    ) -> Document:
        """Insert a new aggregate, or give back the one already stored with the same
        ``key`` fields (a unique index on them; by default its ``_id``, an id derived
        from an idempotency key): creating it again is not an error, and its events
        are not written again."""
        try:
            return self.insert(collection, document)
        except DuplicateKeyError:
            found = self.db[collection].find_one(
                {field: document[field] for field in key},
                projection={"outbox": False, "outbox_lease": False},
            )
            if found is None:  # removed in between: nothing left to repeat
                raise
            return found

    def save(self, collection: str, document: Document) -> Document:
        """Write the changed aggregate and append its pending events, if nobody else
        changed it since it was read (``version``); else ``Conflict``."""
        events = document.pop(PENDING_EVENTS, [])
        state = {k: v for k, v in document.items() if k not in NOT_STATE}
        query = {"_id": document["_id"], "version": document["version"]}
        if not self.update(collection, query, {"$set": state, "$inc": {"version": 1}}, events):
            raise Conflict("This record was changed by someone else at the same time; retry.")
        document["version"] += 1
        return document


def backlog_of(service: object) -> tuple[str, dict[str, float]]:
    """``("ok", {...})``: what waits in the stores of a service instance's repositories
    (``Repository.backlog``), or ``("unavailable", {})`` when a store does not answer."""
    backlog: dict[str, float] = {}
    for dependency in vars(service).values():
        if isinstance(dependency, Repository):
            try:
                backlog.update(dependency.backlog())
            except Exception:
                return "unavailable", {}
    return "ok", backlog


def prepared_db(
    container: ServiceContainer, repository_class: type[Repository]
) -> Database[Document]:
    """The service's database, with the indexes ``repository_class`` declares and the
    one the relay's sweep needs on each aggregate collection."""
    db = mongo_client(container.config)[database_name(container.service_name)]
    for collection, models in repository_class.indexes.items():
        if models:
            db[collection].create_indexes(models)
    for collection in repository_class.aggregates:
        db[collection].create_indexes([IndexModel([(OUTBOX_PENDING, ASCENDING)])])
    return db


class Storage(DependencyProvider):
    """Hands each worker a repository over the service's database, with the relay
    that publishes the events it writes. ``store = Storage(CommunityRepository)``."""

    def __init__(self, repository_class: type[Repository]) -> None:
        self.repository_class = repository_class

    def setup(self) -> None:
        self.db = prepared_db(self.container, self.repository_class)
        self.relay = OutboxRelay(self.container, self.db, self.repository_class.aggregates)

    def start(self) -> None:
        self.relay.start()
        service = self.container.service_name
        aggregates = self.repository_class.aggregates
        self._unregister = register_probe(outbox_probe(service, self.db, aggregates))
        self._unregister_own = register_probe(self._own_backlog)

    def _own_backlog(self) -> list[Metric]:
        own = self.repository_class(self.db).own_backlog()
        if not own:
            return []
        return [
            gauges(
                "kompor_backlog",
                "What waits in a service's store besides its outbox, by kind.",
                {"service": self.container.service_name},
                "what",
                own,
            )
        ]

    def stop(self) -> None:
        self.relay.stop()
        for name in ("_unregister", "_unregister_own"):
            unregister = getattr(self, name, None)
            if unregister is not None:
                unregister()

    kill = stop

    def get_dependency(self, worker_ctx: WorkerContext) -> Repository:
        return self.repository_class(self.db, self.relay)
