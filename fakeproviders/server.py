"""The three fakes behind one loopback `ThreadingHTTPServer`, under the path prefixes /google,
/naver and /kakao, and the settings that point the authorization server at them."""

from __future__ import annotations

import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .base import FakeProvider, Reply, generate_key, json_reply
from .google import FakeGoogle
from .kakao import KAKAO_SCOPES, FakeKakao
from .naver import FakeNaver

MAX_BODY = 1 << 20


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self, address: tuple[str, int], providers: dict[str, FakeProvider], verbose: bool
    ) -> None:
        self.providers = providers
        self.verbose = verbose
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hung up (a test that timed out on `delay`) is no news.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "FakeProviders/1.0"

    def do_GET(self) -> None:
        self.serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)

    def serve(self) -> None:
        try:
            reply = self.reply()
        except Exception as error:  # the fake must keep serving, whatever it is sent
            description = f"{type(error).__name__}: {error}"
            reply = json_reply(500, {"error": "server_error", "error_description": description})
        self.send(reply)

    def reply(self) -> Reply:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if self.headers.get("Transfer-Encoding") or not 0 <= length <= MAX_BODY:
            self.close_connection = True
            return json_reply(400, {"error": "invalid_request", "error_description": "body"})
        body = self.rfile.read(length) if length else b""
        path, _, raw_query = self.path.partition("#")[0].partition("?")
        name, _, rest = path.removeprefix("/").partition("/")
        provider = self.server.providers.get(name) if path.startswith("/") else None
        if provider is None:
            return json_reply(404, {"error": "not_found", "error_description": path})
        headers = {key.lower(): value for key, value in self.headers.items()}
        return provider.handle(self.command, "/" + rest, raw_query, headers, body)

    def send(self, reply: Reply) -> None:
        try:
            self.send_response(reply.status)
            if reply.content_type:
                self.send_header("Content-Type", reply.content_type)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.send_header("Cache-Control", "no-store")
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if reply.drip:
                for byte in reply.body:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(reply.drip)
            else:
                self.wfile.write(reply.body)
        except ConnectionError:
            self.close_connection = True


class FakeProviders:
    """One ThreadingHTTPServer on 127.0.0.1, path prefixes /google, /naver, /kakao."""

    google: FakeGoogle
    naver: FakeNaver
    kakao: FakeKakao
    url: str

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, verbose: bool = False) -> None:
        wrong_key = generate_key()
        self.google = FakeGoogle(generate_key(), wrong_key)
        self.naver = FakeNaver(wrong_key, wrong_key)  # Naver signs nothing
        self.kakao = FakeKakao(generate_key(), wrong_key)
        self.host = host
        self.verbose = verbose
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        # With a fixed port the URL is known before start() (`fakeproviders --env` needs it).
        self._point_at(f"http://{host}:{port}" if port else "")

    @property
    def providers(self) -> tuple[FakeGoogle, FakeNaver, FakeKakao]:
        return self.google, self.naver, self.kakao

    def _point_at(self, url: str) -> None:
        self.url = url
        for provider in self.providers:
            provider.base = f"{url}/{provider.name}"

    def start(self) -> None:
        """Bind and serve in a daemon thread."""
        if self._server is not None:
            raise RuntimeError("FakeProviders already started")
        port = int(self.url.rpartition(":")[2]) if self.url else 0
        server = _Server(
            (self.host, port), {p.name: p for p in self.providers}, verbose=self.verbose
        )
        self._server = server
        self._point_at(f"http://{self.host}:{server.server_address[1]}")
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            daemon=True,
            name="fake-providers",
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> FakeProviders:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def reset(self) -> None:
        for provider in self.providers:
            provider.reset()

    def settings(self) -> dict[str, str]:
        """The authorization server's settings pointing at these fakes."""
        if not self.url:
            raise RuntimeError("start() first, or give a port")
        google, naver, kakao = (f"{self.url}/{p.name}" for p in self.providers)
        return {
            "GOOGLE_CLIENT_ID": self.google.client_id,
            "GOOGLE_CLIENT_SECRET": self.google.client_secret,
            "GOOGLE_AUTHORIZE_URL": f"{google}/o/oauth2/v2/auth",
            "GOOGLE_TOKEN_URL": f"{google}/token",
            "GOOGLE_USERINFO_URL": f"{google}/v1/userinfo",
            "GOOGLE_JWKS_URL": f"{google}/oauth2/v3/certs",
            "GOOGLE_ISSUER": google,
            "GOOGLE_NATIVE_CLIENT_IDS": self.google.native_client_id,
            "NAVER_CLIENT_ID": self.naver.client_id,
            "NAVER_CLIENT_SECRET": self.naver.client_secret,
            "NAVER_AUTHORIZE_URL": f"{naver}/oauth2.0/authorize",
            "NAVER_TOKEN_URL": f"{naver}/oauth2.0/token",
            "NAVER_PROFILE_URL": f"{naver}/v1/nid/me",
            "KAKAO_CLIENT_ID": self.kakao.client_id,
            "KAKAO_CLIENT_SECRET": self.kakao.client_secret,
            "KAKAO_SCOPES": KAKAO_SCOPES,
            "KAKAO_AUTHORIZE_URL": f"{kakao}/oauth/authorize",
            "KAKAO_TOKEN_URL": f"{kakao}/oauth/token",
            "KAKAO_PROFILE_URL": f"{kakao}/v2/user/me",
            "KAKAO_JWKS_URL": f"{kakao}/.well-known/jwks.json",
            "KAKAO_ISSUER": kakao,
            "KAKAO_NATIVE_APP_KEY": self.kakao.native_app_key,
            "KAKAO_APP_ID": str(self.kakao.app_id),
            "KAKAO_ADMIN_KEY": self.kakao.admin_key,
            "KAKAO_TOKEN_INFO_URL": f"{kakao}/v1/user/access_token_info",
            "KAKAO_UNLINK_URL": f"{kakao}/v1/user/unlink",
        }
