"""The database client: one per process, one database ``kompor_<service>`` per service.

``MONGO_URI`` picks the client (docs/architecture.md §4):

- ``mongodb://…`` / ``mongodb+srv://…``: a real MongoDB through pymongo;
- ``memory://name``: an in-process store (tests); the same name is the same store;
- unset: the embedded store (litemongo: mongomock's query engine over SQLite),
  persisted under ``KOMPOR_DATA_DIR/db``.

Both litemongo stores come from ``services.common.embedded``, whose TTL indexes do
not read the whole collection on every access.

Every choice speaks the pymongo API, so repositories have one code path.
"""

import logging
import threading

import pymongo
from litemongo.client import MongoClient as Embedded

from services.common import config as cfg
from services.common.embedded import server_store
from services.common.types import Config, Document

logger = logging.getLogger(__name__)

# litemongo's clients are typed as pymongo's: they speak the same API
Client = pymongo.MongoClient[Document]

_clients: dict[str, Client] = {}
_clients_lock = threading.Lock()


def mongo_client(config: Config) -> Client:
    """The process-wide client for this configuration."""
    uri = cfg.setting(config, cfg.MONGO_URI_KEY)
    key = uri or f"embedded:{cfg.data_dir(config)}"
    with _clients_lock:
        if key not in _clients:
            _clients[key] = _connect(uri, config)
        return _clients[key]


def _connect(uri: str | None, config: Config) -> Client:
    if not uri:
        path = cfg.data_dir(config) / "db"
        logger.info("using the embedded store in %s", path)
        embedded: Client = Embedded(server_store(path), tz_aware=True)
        return embedded
    if uri.startswith("memory://"):
        in_memory: Client = Embedded(server_store(None), tz_aware=True)
        return in_memory
    if uri.startswith(("mongodb://", "mongodb+srv://")):
        return pymongo.MongoClient(uri, tz_aware=True, serverSelectionTimeoutMS=5000)
    raise ValueError(
        f"MONGO_URI {uri!r} is not supported: use mongodb://…, memory://name, or leave it unset"
    )


def database_name(service_name: str) -> str:
    return f"kompor_{service_name}"
