"""Names for the shapes that cross module boundaries, so signatures say what they carry.

Documents are plain dicts on purpose: the domain works on what the store returns, and
the schemas, not the types, say which fields a request or a response holds.
"""

from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, TypeVar

Document = dict[str, Any]
"""A stored record as the store returns it and the domain changes it: an aggregate
(order, product, member …), a projection, or an inbox entry."""

Query = dict[str, Any]
"""A MongoDB filter or update: ``{"_id": order_id}``, ``{"$set": {…}}``."""

Config = Mapping[str, Any]
"""A service container's configuration (``deploy/config.yaml`` after substitution)."""

Entrypoint = TypeVar("Entrypoint", bound=Callable[..., Any])
"""A service method under ``@rpc`` or ``@subscribe``, which hand it back unchanged."""

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]
"""What ``sys.exc_info()`` gives while an exception is handled, as nameko passes it on."""
