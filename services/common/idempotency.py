"""``Idempotency-Key``: a member's retry of a write gets the first answer, not a second
write.

On a slow link the gateway may give up on a call (503) while the service still
finishes it, so a client that retries is the normal case. Each service keeps, in its
own database, a record per member and key of what was asked (a fingerprint of the
operation and its arguments) and what it answered:

- the same key with the same request → the stored answer, nothing runs again;
- the same key with another request → 409 naming the header;
- an error is not stored: retrying after one runs the request again.

Records live in the ``idempotency`` collection and a TTL index removes them a day
after they were written. ``@idempotent`` puts this in front of an RPC entrypoint of a
service that declares ``idempotency = Idempotency()``. Where a repeat would create or
move something, the entrypoint also makes the write itself idempotent (a product's id
derived from the key, a stock change's key recorded with the change), because two
tries can overlap before either stored its answer.
"""

import datetime
import functools
import hashlib
import inspect
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast, overload

from nameko.containers import WorkerContext
from nameko.extensions import DependencyProvider
from pymongo import ASCENDING, IndexModel
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError, PyMongoError

from services.common.actor import Actor, member_id
from services.common.envelope import utcnow
from services.common.errors import Conflict, ValidationError
from services.common.mongo import database_name, mongo_client
from services.common.types import Document, Entrypoint

logger = logging.getLogger(__name__)

IDEMPOTENCY_HEADER = "Idempotency-Key"
KEY_ARGUMENT = "idempotency_key"
"""The keyword an idempotent RPC takes the header's value in."""
MAX_KEY_LENGTH = 100
COLLECTION = "idempotency"
RECORD_TTL = datetime.timedelta(hours=24)
"""How long a key is remembered: at least this long, then the TTL index removes it."""
ANONYMOUS = "anonymous"


def check_key(value: object, required: bool = False) -> str | None:
    """The header's value, 1 to ``MAX_KEY_LENGTH`` visible characters; ``None`` when
    none was sent and none is ``required``."""
    if value is None and not required:
        return None
    key = value.strip() if isinstance(value, str) else ""
    if not key or len(key) > MAX_KEY_LENGTH:
        need = "Required" if required else "Optional"
        raise ValidationError(
            f"Send an {IDEMPOTENCY_HEADER} header of 1 to {MAX_KEY_LENGTH} characters.",
            {
                IDEMPOTENCY_HEADER: [
                    f"{need}: 1 to {MAX_KEY_LENGTH} characters, unique per change you mean "
                    "to make (a UUID is good); send the same key when you retry."
                ]
            },
        )
    return key


def fingerprint(operation: str, arguments: Sequence[Any]) -> str:
    """A hash of what was asked: the operation and its arguments (path parts and
    body), independent of the order of the body's fields."""
    canonical = json.dumps(
        [operation, list(arguments)], sort_keys=True, separators=(",", ":"), default=str
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def record_id(actor: Actor | None, key: str) -> str:
    """Keys are per member: two members may pick the same one."""
    return f"{member_id(actor) or ANONYMOUS}:{key}"


def answer(record: Mapping[str, Any], request_fingerprint: str) -> Any:
    """The stored answer, if the record is of this request; else ``Conflict``."""
    if record["fingerprint"] != request_fingerprint:
        raise Conflict(
            f"This {IDEMPOTENCY_HEADER} was already used for another request.",
            {
                IDEMPOTENCY_HEADER: [
                    f"Already used with another body or for another operation "
                    f"({record['operation']}); send a new key for a new request."
                ]
            },
        )
    return record["result"]


class IdempotencyRecords:
    """The answers given under each member's keys, in the service's database."""

    indexes = [
        IndexModel([("created_at", ASCENDING)], expireAfterSeconds=int(RECORD_TTL.total_seconds()))
    ]

    def __init__(self, db: Database[Document]) -> None:
        self.collection = db[COLLECTION]

    @classmethod
    def prepare(cls, db: Database[Document]) -> None:
        db[COLLECTION].create_indexes(cls.indexes)

    def find(self, record_key: str) -> Document | None:
        return self.collection.find_one({"_id": record_key})

    def remember(
        self, record_key: str, operation: str, request_fingerprint: str, result: Any
    ) -> Document:
        """Store the answer, or give back the one stored first under this key."""
        record = {
            "_id": record_key,
            "operation": operation,
            "fingerprint": request_fingerprint,
            "result": result,
            "created_at": utcnow(),
        }
        try:
            self.collection.insert_one(record)
        except DuplicateKeyError:
            return self.find(record_key) or record
        except PyMongoError as exc:
            # the write itself is done; the caller gets its answer, a retry may run again
            logger.warning("could not remember the answer under %s: %s", record_key, exc)
        return record


class Idempotency(DependencyProvider):
    """``idempotency = Idempotency()`` on a service whose entrypoints are ``@idempotent``."""

    def setup(self) -> None:
        self.db = mongo_client(self.container.config)[database_name(self.container.service_name)]
        IdempotencyRecords.prepare(self.db)

    def get_dependency(self, worker_ctx: WorkerContext) -> IdempotencyRecords:
        return IdempotencyRecords(self.db)


@overload
def idempotent(method: Entrypoint, /) -> Entrypoint: ...


@overload
def idempotent(*, required: bool = ...) -> Callable[[Entrypoint], Entrypoint]: ...


def idempotent(method: Any = None, *, required: bool = False) -> Any:
    """``@idempotent`` or ``@idempotent(required=True)``, under ``@rpc``, on an
    entrypoint ``(self, actor, …)``: it takes a keyword ``idempotency_key`` and answers
    a repeat from the service's ``idempotency`` records. An entrypoint that declares
    ``idempotency_key`` itself is handed the checked key, to make its write idempotent."""

    def decorate(method: Entrypoint) -> Entrypoint:
        signature = inspect.signature(method)
        takes_key = KEY_ARGUMENT in signature.parameters
        if not takes_key:
            keyword = inspect.Parameter(KEY_ARGUMENT, inspect.Parameter.KEYWORD_ONLY, default=None)
            signature = signature.replace(parameters=[*signature.parameters.values(), keyword])
        operation = method.__name__

        @functools.wraps(method)
        def once(self: Any, actor: Actor | None, *args: Any, **kwargs: Any) -> Any:
            key = check_key(kwargs.pop(KEY_ARGUMENT, None), required)
            if takes_key:
                kwargs[KEY_ARGUMENT] = key
            if key is None:
                return method(self, actor, *args, **kwargs)
            records: IdempotencyRecords = self.idempotency
            request_key = record_id(actor, key)
            request_fingerprint = fingerprint(operation, _arguments(signature, args, kwargs))
            stored = records.find(request_key)
            if stored is not None:
                return answer(stored, request_fingerprint)
            result = method(self, actor, *args, **kwargs)
            stored = records.remember(request_key, operation, request_fingerprint, result)
            return answer(stored, request_fingerprint)

        # nameko checks each call's arguments against this signature
        once.__signature__ = signature  # type: ignore[attr-defined]
        return cast(Entrypoint, once)

    if method is not None:
        return decorate(method)
    return decorate


def _arguments(
    signature: inspect.Signature, args: Sequence[Any], kwargs: Mapping[str, Any]
) -> list[Any]:
    """The request's arguments after the actor, in the signature's order, however the
    caller passed them (by position or by name)."""
    bound = signature.bind(None, None, *args, **kwargs)
    bound.apply_defaults()
    names = list(signature.parameters)[2:]
    return [bound.arguments[name] for name in names if name != KEY_ARGUMENT]
