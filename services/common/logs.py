"""Log records that say which service, request and event they belong to
(docs/architecture.md §16), as readable text or, with ``KOMPOR_LOG_FORMAT=json``, one
JSON object per line. ``deploy/config.yaml`` (``LOGGING``) wires them in:

- ``ContextFilter`` puts ``service``, ``request_id``, ``event_type`` and ``event_id``
  on every record (from ``services.common.tracing.current()``; empty when unknown);
- ``formatter(style)`` is ``JsonFormatter`` for ``json``, ``TextFormatter`` otherwise.

Both formatters mask what must never reach a log store: phone numbers (all but the
last three digits) and bearer tokens, whatever the message that carries them.
"""

import datetime
import json
import logging
import re
import sys
from typing import Any

from services.common import tracing
from services.common.phone import mask_phone
from services.common.topology import SERVICES

FIELDS = ("service", tracing.REQUEST_ID, "event_type", "event_id")
PHONE = re.compile(r"(?<![\w.])\+?\d{6,12}(\d{3})(?![\w])")
# an Indonesian mobile number as people write it: 0812-3456-7890, +62 812 3456 7890
WRITTEN_PHONE = re.compile(r"(?<![\w.+])(?:\+62|62|0)[ -]?8\d{1,3}(?:[ -]\d{2,5}){1,3}(?![\w])")
BEARER = re.compile(r"(?i)(bearer\s+)[\w.~+/=-]+")

_service = {"name": ""}


def set_service(name: str) -> None:
    """Name the service this process runs (done when its container is set up)."""
    _service["name"] = name


def service_name() -> str:
    """This process's service: as set, else the one ``nameko run`` was asked to run."""
    if not _service["name"]:
        for name, path in SERVICES.items():
            if path in sys.argv:
                _service["name"] = name
    return _service["name"]


def masked(text: str) -> str:
    """``text`` with phone numbers and bearer tokens masked."""
    text = BEARER.sub(r"\1***", text)
    text = WRITTEN_PHONE.sub(lambda match: mask_phone(match.group(0)), text)
    return PHONE.sub(lambda match: mask_phone(match.group(0)), text)


class ContextFilter(logging.Filter):
    """Adds the service, request and event a record belongs to; never drops one."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = tracing.current()
        record.service = service_name()
        for field in FIELDS[1:]:
            if not hasattr(record, field):
                setattr(record, field, context.get(field) or "")
        return True


def _time(record: logging.LogRecord) -> str:
    moment = datetime.datetime.fromtimestamp(record.created, datetime.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class TextFormatter(logging.Formatter):
    """``2026-12-02T09:36:26.123Z INFO orders services.orders.service [req 3f2a…]:
    message`` (the bracket only when a request id is known)."""

    def format(self, record: logging.LogRecord) -> str:
        message = masked(record.getMessage())
        request_id = getattr(record, tracing.REQUEST_ID, "")
        where = f" [req {request_id}]" if request_id else ""
        event = getattr(record, "event_type", "")
        if event:
            where += f" [event {event} {getattr(record, 'event_id', '')}]"
        line = (
            f"{_time(record)} {record.levelname} {getattr(record, 'service', '') or '-'} "
            f"{record.name}{where}: {message}"
        )
        if record.exc_info:
            line += "\n" + masked(self.formatException(record.exc_info))
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``time``, ``level``, ``service``, ``logger``,
    ``message``, and ``request_id``, ``event_type``, ``event_id`` where known;
    ``exception`` with the traceback of a record that has one."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": _time(record),
            "level": record.levelname,
            "service": getattr(record, "service", "") or service_name(),
            "logger": record.name,
            "message": masked(record.getMessage()),
        }
        for field in FIELDS[1:]:
            value = getattr(record, field, "")
            if value:
                line[field] = value
        if record.exc_info:
            line["exception"] = masked(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False, default=str)


def formatter(style: str = "text") -> logging.Formatter:
    """The formatter ``KOMPOR_LOG_FORMAT`` names: ``json``, or readable text."""
    return JsonFormatter() if str(style).strip().lower() == "json" else TextFormatter()
