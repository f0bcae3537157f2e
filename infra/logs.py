"""Log lines that say which request they belong to, and JSON lines for log collectors.

The request middleware (`RequestLog`) names each request (its `X-Request-ID`, kept from a
trusted proxy or made here), times it, and writes one line when it is answered. Lines logged
while a request is served carry its id, its path and the client it is for, once known
(`log_client`): the context lives in contextvars, one per thread of a gthread worker.

Nothing from outside is logged raw: the path is cut short and stripped of control characters,
a request id that is not a short plain token is replaced, and the query string (which carries
codes and states) is never logged.
"""

from __future__ import annotations

import json
import logging
import logging.config
import re
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from .untrusted import printable

request_log = logging.getLogger("authserver.requests")

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
_path: ContextVar[str | None] = ContextVar("path", default=None)
_client_id: ContextVar[str | None] = ContextVar("client_id", default=None)

# What a proxy's request id looks like (a UUID, a hex or base64url token, Heroku's and AWS's
# forms): anything else, or anything longer, is replaced rather than logged.
REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:+=/-]{0,127}")
MAX_PATH = 200


def log_client(client_id: str) -> None:
    """Name the client the current request is for (once it is known to exist)."""
    _client_id.set(printable(client_id, 100))


def request_id_of(request: HttpRequest) -> str:
    """A proxy's X-Request-ID when the proxy is trusted (TRUST_X_FORWARDED_FOR) and the value
    plain, else a new one."""
    if settings.TRUST_X_FORWARDED_FOR:
        given = str(request.META.get("HTTP_X_REQUEST_ID", ""))
        if REQUEST_ID.fullmatch(given):
            return given
    return uuid.uuid4().hex


class RequestLog:
    """Names, times and logs each request; echoes its id in `X-Request-ID`."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        request_id = request_id_of(request)
        tokens = (
            _request_id.set(request_id),
            _path.set(printable(request.path, MAX_PATH)),
            _client_id.set(None),
        )
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            if request_log.isEnabledFor(logging.INFO):
                duration = round((time.perf_counter() - started) * 1000, 2)
                request_log.info(
                    "%s %s %s",
                    printable(request.method or "", 20),
                    _path.get(),
                    response.status_code,
                    extra={"status": response.status_code, "duration_ms": duration},
                )
            return response
        finally:
            for variable, token in zip((_request_id, _path, _client_id), tokens, strict=True):
                variable.reset(token)


def configure(config: dict[str, Any]) -> None:
    """Django's LOGGING_CONFIG: the dictConfig, with Python's warnings sent through logging
    (logger "py.warnings"), so that they too come out as JSON lines."""
    logging.config.dictConfig(config)
    logging.captureWarnings(True)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and what is known of the
    request being served (request_id, client_id, path, status, duration_ms)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name, variable in (
            ("request_id", _request_id),
            ("client_id", _client_id),
            ("path", _path),
        ):
            if (value := variable.get()) is not None:
                line[name] = value
        for name in ("status", "duration_ms"):
            if (value := getattr(record, name, None)) is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)
