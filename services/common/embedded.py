"""The embedded store (litemongo) with TTL indexes that cost nothing between expiries.

litemongo keeps mongomock's TTL handling: before every read or write of a collection
with a TTL index it reads and decodes every document of it to find the expired ones.
The inbox of each service has such an index (``events.INBOX_KEPT``) and is read and
written for every event handled, so each event cost a pass over every event handled
in the last week. Here a collection looks for expired documents only when one may be
due: a minute after its last look (MongoDB's own TTL monitor runs once a minute), or
sooner when a document written through this process expires before that (one written
already past its time is gone at the next access). What the TTL index removes is
unchanged; it is only looked for less often.

``server_store`` builds the stores ``mongo.mongo_client`` hands to litemongo, on
SQLite (the embedded store) or in memory (``memory://``, tests).
"""

import datetime
import pathlib
from typing import Any

import litemongo.sqlite_store as sqlite_store
from litemongo._vendor.mongomock import store as memory_store

TTL_MONITOR = datetime.timedelta(seconds=60)


def _naive_utc(moment: datetime.datetime) -> datetime.datetime:
    """As the store keeps datetimes: naive, in UTC."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(datetime.UTC).replace(tzinfo=None)


def _expires_at(document: Any, index: dict[str, Any]) -> datetime.datetime | None:
    """When ``document`` expires under the TTL ``index`` (the earliest of a list of
    dates, as MongoDB does), or ``None`` if it never does."""
    (field, _), *_ = index["key"]
    value = document.get(field) if isinstance(document, dict) else None
    values = value if isinstance(value, list) else [value]
    dates = [_naive_utc(v) for v in values if isinstance(v, datetime.datetime)]
    try:
        kept = datetime.timedelta(seconds=int(index["expireAfterSeconds"]))
    except (TypeError, ValueError):  # a TTL the store ignores, so does this
        return None
    return min(dates) + kept if dates else None


class PacedExpiry:
    """Mixed into a collection store: its TTL pass runs only when something may be due."""

    _ttl_indexes: dict[str, dict[str, Any]]
    _next_expiry: datetime.datetime | None = None  # None: look at the next access

    def _remove_expired_documents(self) -> None:
        if not self._ttl_indexes:
            return
        now = _naive_utc(datetime.datetime.now(datetime.UTC))
        if self._next_expiry is not None and now < self._next_expiry:
            return
        self._next_expiry = now + TTL_MONITOR
        super()._remove_expired_documents()  # type: ignore[misc]

    def create_index(self, index_name: str, index_dict: dict[str, Any]) -> None:
        super().create_index(index_name, index_dict)  # type: ignore[misc]
        self._next_expiry = None

    def __setitem__(self, key: Any, document: Any) -> None:
        super().__setitem__(key, document)  # type: ignore[misc]
        for index in self._ttl_indexes.values():
            expires = _expires_at(document, index)
            if (
                expires is not None
                and self._next_expiry is not None
                and expires < self._next_expiry
            ):
                self._next_expiry = expires


class _SqliteCollection(PacedExpiry, sqlite_store.CollectionStore):
    pass


class _SqliteDatabase(sqlite_store.DatabaseStore):
    def __getitem__(self, col_name: str) -> _SqliteCollection:
        if col_name not in self._collections:
            self._collections[col_name] = _SqliteCollection(
                self._dirpath / col_name, codec_options=self._codec_options
            )
        collection: _SqliteCollection = self._collections[col_name]
        return collection


class _SqliteServer(sqlite_store.ServerStore):
    def __getitem__(self, db_name: str) -> _SqliteDatabase:
        if db_name not in self._databases:
            self._databases[db_name] = _SqliteDatabase(self._dirpath / db_name)
        database: _SqliteDatabase = self._databases[db_name]
        return database


class _MemoryCollection(PacedExpiry, memory_store.CollectionStore):
    pass


class _MemoryDatabase(memory_store.DatabaseStore):
    def __getitem__(self, col_name: str) -> _MemoryCollection:
        if col_name not in self._collections:
            self._collections[col_name] = _MemoryCollection(col_name)  # type: ignore[no-untyped-call]
        collection: _MemoryCollection = self._collections[col_name]
        return collection


class _MemoryServer(memory_store.ServerStore):
    def __getitem__(self, db_name: str) -> _MemoryDatabase:
        if db_name not in self._databases:
            self._databases[db_name] = _MemoryDatabase()  # type: ignore[no-untyped-call]
        database: _MemoryDatabase = self._databases[db_name]
        return database


def server_store(path: pathlib.Path | None) -> memory_store.ServerStore:
    """The store of a litemongo client: SQLite files under ``path``, or in memory."""
    if path is None:
        return _MemoryServer()  # type: ignore[no-untyped-call]
    return _SqliteServer(path)
