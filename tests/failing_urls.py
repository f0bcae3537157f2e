"""The project's URLs plus one page that fails as when the database is down: the 500 page is
reached over real HTTP, and any query while it is drawn would fail too."""

from __future__ import annotations

import threading
from typing import Any, NoReturn

from django.core.signals import request_finished
from django.db import OperationalError, connection
from django.http import HttpRequest
from django.urls import path

from authserver.urls import handler400, handler403, handler404, handler500, urlpatterns

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]


def refuse(*args: Any) -> NoReturn:
    raise OperationalError("the database does not answer")


def database_down(request: HttpRequest) -> NoReturn:
    """The refusal lasts until this request's answer is written; the thread, and with it the
    connection, may serve the browser's next request (keep-alive)."""
    wrappers, thread = connection.execute_wrappers, threading.get_ident()

    def restore(**kwargs: Any) -> None:
        if threading.get_ident() == thread:
            wrappers.remove(refuse)
            request_finished.disconnect(restore)

    wrappers.append(refuse)
    request_finished.connect(restore, weak=False)
    refuse()


urlpatterns = [path("database-down", database_down), *urlpatterns]
