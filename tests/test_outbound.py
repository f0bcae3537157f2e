"""Requests to other servers (infra/outbound.py): an answer is read within its time limit and
up to MAX_BODY, and a redirect is not followed."""

from __future__ import annotations

from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from infra.outbound import MAX_BODY, AnswerTooLarge, bounded_get


class Answers(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    asked: list[str] = []

    def do_GET(self) -> None:  # noqa: N802
        self.asked.append(self.path)
        if self.path == "/moved":
            self.send_response(302)
            self.send_header("Location", "/big")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        # /big: more than MAX_BODY, in chunks, with no Content-Length to refuse it by
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        piece = b"x" * 65536
        try:
            for _ in range(MAX_BODY // len(piece) + 2):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.write(b"0\r\n\r\n")
        except ConnectionError:
            pass

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server(serve: Callable[..., str]) -> str:
    Answers.asked = []
    return serve(Answers)


def test_a_redirect_is_answered_not_followed(server: str) -> None:
    response = bounded_get(f"{server}/moved", timeout=5)

    assert response.status_code == 302
    assert Answers.asked == ["/moved"]


def test_a_body_larger_than_max_body_is_refused_without_a_content_length(server: str) -> None:
    with pytest.raises(AnswerTooLarge):
        bounded_get(f"{server}/big", timeout=5)
