"""Requests to other servers (upstream providers' token and profile endpoints, a JWKS), bounded
in time and size.

requests' `timeout` bounds each wait for the socket, not the whole answer: a server sending a
byte now and then could hold a worker for as long as it liked, and nothing limits how much it
sends. Here an answer's body must have arrived by the call's time limit (checked as each piece
arrives, so a last wait can add up to the limit again), and be no larger than MAX_BODY (after
decompression). The headers are still bounded only per read.
"""

from __future__ import annotations

import time
from typing import Any

import requests
import urllib3

from . import metrics

# Far above any token response, profile or key set.
MAX_BODY = 1 << 20
CHUNK = 16 << 10
DEFAULT_TIMEOUT = 10.0


class AnswerTooLarge(ValueError):
    """The answer's body is larger than MAX_BODY."""


class Bounded:
    """A requests session mixin: every answer is read whole within the call's `timeout`, a
    number of seconds (the session's `default_timeout`, as authlib's sessions name it, when the
    call gives none), and refused when larger than MAX_BODY. Redirects are not followed:
    requests would read a redirect's body whole, unbounded, and the servers called here answer
    where they are asked."""

    default_timeout: float | None = None
    target = "other"  # what the metrics call the server called: a provider's name, "jwks"

    def request(
        self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any
    ) -> requests.Response:
        limit = kwargs.get("timeout")
        if not isinstance(limit, int | float) or limit <= 0:
            limit = self.default_timeout or DEFAULT_TIMEOUT
        started = time.monotonic()
        deadline = started + limit
        kwargs.update(timeout=limit, stream=True, allow_redirects=False)
        failed = True
        try:
            # The session class beside this one in the bases (requests', or authlib's).
            response: requests.Response = super().request(  # type: ignore[misc]
                method, url, *args, **kwargs
            )
            try:
                response._content = _body(response, deadline, limit)
            finally:
                response.close()
            failed = response.status_code >= 500
            return response
        finally:
            metrics.upstream_duration.labels(self.target).observe(time.monotonic() - started)
            if failed:
                metrics.upstream_failures.labels(self.target).inc()


def _body(response: requests.Response, deadline: float, limit: float) -> bytes:
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise AnswerTooLarge(f"{response.url}: {declared} bytes")
    body = bytearray()
    while True:
        # read1: what has arrived, up to CHUNK (decompressed no further), rather than
        # waiting for a whole CHUNK as iter_content does.
        try:
            chunk = response.raw.read1(CHUNK, decode_content=True)
        except urllib3.exceptions.ReadTimeoutError as error:
            raise requests.Timeout(error) from None
        except urllib3.exceptions.HTTPError as error:
            raise requests.ConnectionError(error) from None
        if not chunk:
            return bytes(body)
        body += chunk
        if len(body) > MAX_BODY:
            raise AnswerTooLarge(f"{response.url}: more than {MAX_BODY} bytes")
        if time.monotonic() > deadline:
            raise requests.Timeout(f"{response.url}: the answer took longer than {limit} s")


class BoundedSession(Bounded, requests.Session):
    pass


def bounded_get(
    url: str, *, timeout: float, headers: dict[str, str] | None = None, target: str = "other"
) -> requests.Response:
    """requests.get, bounded as above; `target` names the server in the metrics."""
    with BoundedSession() as session:
        session.target = target
        return session.get(url, headers=headers, timeout=timeout)
