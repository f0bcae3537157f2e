"""`make bench`: the hot paths under load, as ratios to a bare Django view served the same way.

The project runs under gunicorn on PostgreSQL in production configuration (DEBUG off), on a
database of its own that is created afresh. Load comes from wrk in a separate process, with Lua
scripts feeding single-use codes and refresh tokens minted beforehand through the real
endpoints. Results are printed and, after a full run, written to bench/results.json and, as
the page the documentation shows, docs/benchmark-results.md.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit, urlunsplit

import psycopg
import requests

from bench.report import machine, print_seeded, print_table, results_page
from bench.seed import database_size, seed, vacuum

ROOT = Path(__file__).resolve().parent.parent
PORT = 8800
URL = f"http://127.0.0.1:{PORT}"
PASSWORD = "bench-password-not-secret"

# The fixed configuration, documented in docs/benchmark.md. With one listening socket
# shared by the workers, Linux hands a burst of new connections mostly to one of them, which
# then serves all of wrk's eight while the other, and a core, stands idle; with --reuse-port each
# worker listens on a socket of its own and the kernel deals connections out by a hash of their
# addresses: at random, so seldom all to one.
GUNICORN = os.environ.get(
    "BENCH_GUNICORN", "--workers 2 --worker-class gthread --threads 4 --reuse-port"
).split()
WRK = ["--threads", "1", "--connections", "8", "--timeout", "10s"]
SLICE_SECONDS = 1
DEFAULT_PAIRS = 11
PAIRS = int(os.environ.get("BENCH_PAIRS", DEFAULT_PAIRS))
# For working on one path: BENCH_ONLY=token_refresh,token_code measures just those.
ONLY = set(filter(None, os.environ.get("BENCH_ONLY", "").split(",")))
# BENCH_SEED=1000000: measure on the empty database, load that many rows per table (seed.py),
# measure again, then time refreshes while cleartokens removes the expired half.
SEED = int(os.environ.get("BENCH_SEED", "0") or 0)
WARMUP_SECONDS = 2
MINT_SECONDS = 10

FLOOR_RUNS: list[dict[str, Any]] = []  # every slice of the floor, for its own row
TARGETS = {"api_me": 0.8, "token_refresh": 0.2, "token_code": 0.2, "authorize": 0.15}
RESULTS_PAGE = ROOT / "docs" / "benchmark-results.md"


def bench_environment() -> dict[str, str]:
    base = os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/postgres"
    parts = urlsplit(base)
    database_url = urlunsplit(parts._replace(path="/authserver_bench"))
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "bench-only-secret-key-" + "x" * 40,
        "ISSUER": URL,
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": database_url,
        "ACCESS_TOKEN_LIFETIME": "3600",
        "DEMO_CLIENT": "false",
        "EMAIL_HOST": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
        # The limits are counted as always, but set far above what one load generator sends.
        "RATE_LIMIT_TOKEN_CLIENT": "100000000/60",
        "RATE_LIMIT_TOKEN_ADDRESS": "100000000/60",
        "RATE_LIMIT_INTROSPECTION_CLIENT": "100000000/60",
        "RATE_LIMIT_INTROSPECTION_ADDRESS": "100000000/60",
        "DJANGO_SETTINGS_MODULE": "authserver.settings",
    }
    return env


def recreate_database(database_url: str) -> None:
    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def create_fixtures() -> dict[str, Any]:
    """A person, a third-party client they consented to, and a resource server."""
    import django

    sys.path.insert(0, str(ROOT))
    django.setup()
    from accounts.models import User
    from oauth.clients import client_create
    from oauth.services import consent_grant

    person = User.objects.create_user("bench", "bench@example.com", PASSWORD)
    client, secret = client_create(name="Bench app", redirect_uris=["https://app.example/cb"])
    server, server_secret = client_create(name="Bench API", redirect_uris=["https://api.example/"])
    server.introspect_any_token = True
    server.save(update_fields=["introspect_any_token"])
    consent_grant(user=person, client=client, scope="openid profile email")
    return {
        "client_id": client.client_id,
        "client_pk": client.pk,
        "client_secret": secret,
        "redirect_uri": client.redirect_uris[0],
        "server_basic": basic(server.client_id, server_secret or ""),
        "client_basic": basic(client.client_id, secret or ""),
    }


def basic(client_id: str, secret: str) -> str:
    import base64

    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


@contextmanager
def gunicorn(env: dict[str, str]) -> Iterator[None]:
    with socket.socket() as probe:  # with --reuse-port a second server would bind too
        if probe.connect_ex(("127.0.0.1", PORT)) == 0:
            raise SystemExit(f"something already listens on port {PORT}")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "authserver.wsgi", "--bind", f"127.0.0.1:{PORT}",
         *GUNICORN, "--log-level", "warning", "--no-control-socket"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{URL}/ping", timeout=2).ok:
                    break
            except requests.RequestException:  # not listening yet, or still booting
                pass
            if time.monotonic() > deadline:
                raise SystemExit("gunicorn did not start")
            time.sleep(0.2)
        if requests.get(f"{URL}/ping", timeout=2).headers.get("Connection") == "close":
            # wrk would then measure a TCP connection per request, mostly, not the views. (A
            # worker that keeps only a few alive passes this check: with BENCH_GUNICORN, keep
            # --worker-connections at least threads + 8.)
            raise SystemExit("gunicorn closes every connection: keep-alive is off")
        yield
    finally:
        server.terminate()
        server.wait(timeout=30)


def sign_in() -> str:
    """A browser session of the bench person; returns its Cookie header."""
    browser = requests.Session()
    page = browser.get(f"{URL}/accounts/login/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token is not None
    browser.post(
        f"{URL}/accounts/login/",
        data={"csrfmiddlewaretoken": token.group(1), "username": "bench", "password": PASSWORD},
        timeout=10,
    )
    return "; ".join(f"{name}={value}" for name, value in browser.cookies.items())


def wrk(seconds: int, *, values: Path | None = None, capture: str | None = None,
        **request: str) -> dict[str, Any]:  # fmt: skip
    """One wrk run; `request` gives BENCH_METHOD, BENCH_PATH, BENCH_HEADERS, BENCH_BODY."""
    with tempfile.TemporaryDirectory() as scratch:
        report, output = Path(scratch) / "report.json", Path(scratch) / "captured.txt"
        env = {**os.environ, "BENCH_REPORT": str(report), "BENCH_THREADS": WRK[1]}
        env.update({f"BENCH_{name.upper()}": value for name, value in request.items()})
        if values is not None:
            env["BENCH_VALUES"] = str(values)
        if capture is not None:
            env.update(BENCH_CAPTURE=capture, BENCH_OUTPUT=str(output))
        subprocess.run(
            ["wrk", *WRK, "--duration", f"{seconds}s", "--script", "bench/wrk/bench.lua", URL],
            cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        result = json.loads(report.read_text())
        if capture is not None:
            result["captured"] = output.read_text().split()
    return result


def mint(into: Path, seconds: int, **run: Any) -> None:
    """Single-use values (codes, refresh tokens) from an unmeasured run, for a measured one."""
    into.write_text("\n".join(wrk(seconds, **run)["captured"]))


def measure(seconds: int, **request: Any) -> dict[str, Any]:
    result = wrk(seconds, **request)
    errors = sum(result["errors"].values())
    if errors:
        raise SystemExit(f"{request.get('path')}: {errors} failed requests ({result['errors']})")
    rate = result["value_rate"] or result["requests"] / (result["duration_us"] / 1e6)
    return {
        "requests_per_second": round(rate, 1),
        "p50_ms": round(result["p50_us"] / 1000, 2),
        "p99_ms": round(result["p99_us"] / 1000, 2),
        "requests": result["requests"],
    }


def main() -> None:
    started = time.monotonic()
    env = bench_environment()
    os.environ.update(env)
    print("Preparing a fresh database …", flush=True)
    recreate_database(env["DATABASE_URL"])
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    fixtures = create_fixtures()

    with gunicorn(env):
        cookie = sign_in()
        authorize_path = "/oauth/authorize?" + urlencode({
            "response_type": "code", "client_id": fixtures["client_id"],
            "redirect_uri": fixtures["redirect_uri"], "scope": "openid profile email",
            "state": "bench",
        })  # fmt: skip
        authorize = {"path": authorize_path, "headers": f"Cookie: {cookie}"}
        form = "Content-Type: application/x-www-form-urlencoded\n"
        code_exchange = {
            "method": "POST", "path": "/oauth/token",
            "headers": form + f"Authorization: {fixtures['client_basic']}",
            "body": "grant_type=authorization_code&code={value}&redirect_uri="
            + quote(fixtures["redirect_uri"], safe=""),
        }  # fmt: skip
        refresh = {**code_exchange, "body": "grant_type=refresh_token&refresh_token={value}"}

        first_code = parse_qs(urlsplit(requests.get(
            f"{URL}{authorize_path}", headers={"Cookie": cookie}, allow_redirects=False,
            timeout=10).headers["Location"]).query)["code"][0]  # fmt: skip
        tokens = requests.post(
            f"{URL}/oauth/token",
            data={"grant_type": "authorization_code", "code": first_code,
                  "redirect_uri": fixtures["redirect_uri"]},
            headers={"Authorization": fixtures["client_basic"]}, timeout=10,
        ).json()  # fmt: skip
        api_me = {"path": "/api/me", "headers": f"Authorization: Bearer {tokens['access_token']}"}
        introspect = {
            "method": "POST", "path": "/oauth/introspect",
            "headers": form + f"Authorization: {fixtures['server_basic']}",
            "body": "token=" + tokens["access_token"],
        }  # fmt: skip

        endpoints = {"floor": {"path": "/ping"}, "api_me": api_me, "introspection": introspect,
                     "authorize": authorize, "code_exchange": code_exchange,
                     "refresh": refresh}  # fmt: skip
        results = measure_all(endpoints)
        if SEED:
            results = seeded_run(env["DATABASE_URL"], fixtures, endpoints, results)

    middle = sorted(FLOOR_RUNS, key=lambda run: run["requests_per_second"])[len(FLOOR_RUNS) // 2]
    results = {
        "floor": {**middle, "floor_requests_per_second": middle["requests_per_second"],
                  "ratio_to_floor": 1.0},
        **results,
    }  # fmt: skip
    for name, result in results.items():
        if name in TARGETS:
            result["target"] = TARGETS[name]
            result["meets_target"] = result["ratio_to_floor"] >= TARGETS[name]
    report = {"machine": machine(gunicorn=GUNICORN, wrk=WRK, pairs=PAIRS), "results": results,
              "seconds": round(time.monotonic() - started)}  # fmt: skip
    written = "written to bench/results.json"
    if not ONLY and not SEED:  # a partial or seeded run leaves the full figures alone
        (ROOT / "bench" / "results.json").write_text(json.dumps(report, indent=2) + "\n")
    if not ONLY and not SEED and PAIRS >= DEFAULT_PAIRS:  # only a full run is what docs show
        RESULTS_PAGE.write_text(results_page(report, slice_seconds=SLICE_SECONDS))
        written += f" and {RESULTS_PAGE.relative_to(ROOT)}"
    print_table(
        report, written="not written (BENCH_ONLY or BENCH_SEED)" if ONLY or SEED else written
    )


def measure_all(endpoints: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Every selected endpoint paired with the floor; codes and refresh tokens minted afresh."""
    print("Measuring …", flush=True)
    floor, authorize = endpoints["floor"], endpoints["authorize"]
    code_exchange, refresh = endpoints["code_exchange"], endpoints["refresh"]
    for name in ("floor", "api_me", "introspection", "authorize"):
        wrk(WARMUP_SECONDS, **endpoints[name])
    results = {
        name: paired(name, floor, [endpoints[name]] * PAIRS)
        for name in ("api_me", "introspection", "authorize")
        if selected(name)
    }
    with tempfile.TemporaryDirectory() as scratch:
        codes, refresh_tokens = Path(scratch) / "codes", Path(scratch) / "refresh"
        mint(codes, MINT_SECONDS, capture="code=([^&]+)", **authorize)
        mint(refresh_tokens, MINT_SECONDS, values=codes,
             capture='"refresh_token": *"([^"]+)"', **code_exchange)  # fmt: skip
        refresh_runs = [{**refresh, "values": chunk} for chunk in split(refresh_tokens, PAIRS)]
        mint(codes, MINT_SECONDS, capture="code=([^&]+)", **authorize)  # fresh: codes expire
        code_runs = [{**code_exchange, "values": chunk} for chunk in split(codes, PAIRS)]
        if selected("token_code"):
            results["token_code"] = paired("token_code", floor, code_runs)
        if selected("token_refresh"):
            results["token_refresh"] = paired("token_refresh", floor, refresh_runs)
    return results


def seeded_run(url: str, fixtures: dict[str, Any], endpoints: dict[str, Any], empty: Any) -> Any:
    """Seed, measure again, then refreshes while cleartokens runs; prints what it found."""
    database_url, sizes = url, {"empty": database_size(url)}
    print(f"Seeding {SEED} rows per table …", flush=True)
    seconds = seed(database_url, SEED, client_pk=fixtures["client_pk"])
    sizes["seeded"] = database_size(database_url)
    print(f"  seeded in {seconds:.0f} s (COPY)", flush=True)
    seeded = measure_all(endpoints)
    cleanup = cleanup_under_load(endpoints)
    vacuum(database_url)
    sizes["after cleanup and VACUUM"] = database_size(database_url)
    print_seeded(empty, seeded, cleanup, sizes)
    return seeded


def cleanup_under_load(endpoints: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """p99 of refresh slices before, then while `manage.py cleartokens` runs."""
    slices = 40
    with tempfile.TemporaryDirectory() as scratch:
        codes, refresh_tokens = Path(scratch) / "codes", Path(scratch) / "refresh"
        mint(codes, 2 * MINT_SECONDS, capture="code=([^&]+)", **endpoints["authorize"])
        mint(refresh_tokens, 2 * MINT_SECONDS, values=codes,
             capture='"refresh_token": *"([^"]+)"', **endpoints["code_exchange"])  # fmt: skip
        runs = [{**endpoints["refresh"], "values": c} for c in split(refresh_tokens, slices)]
        before = [measure(SLICE_SECONDS, **run)["p99_ms"] for run in runs[:5]]
        started = time.monotonic()
        cleaner = subprocess.Popen([sys.executable, "manage.py", "cleartokens"], cwd=ROOT,
                                   stdout=subprocess.DEVNULL)  # fmt: skip
        during = []
        for run in runs[5:]:
            if cleaner.poll() is not None:
                break
            during.append(measure(SLICE_SECONDS, **run)["p99_ms"])
        cleaner.wait()
        took = time.monotonic() - started
    return {
        "seconds": took,
        "p99_before_ms": sorted(before)[len(before) // 2],
        "p99_during_ms": sorted(during)[len(during) // 2] if during else None,
        "p99_worst_ms": max(during, default=None),
        "slices": len(during),
    }


def selected(name: str) -> bool:
    return not ONLY or name in ONLY


def paired(name: str, floor: dict[str, Any], runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Each run right after a run of the floor; the result is the pair with the median ratio.

    This kind of machine has noisy neighbours: its speed changes for seconds at a time, so a
    ratio is only fair between runs made moments apart.
    """
    pairs = []
    for request in runs:
        base, measured = measure(SLICE_SECONDS, **floor), measure(SLICE_SECONDS, **request)
        FLOOR_RUNS.append(base)
        pairs.append(
            (measured["requests_per_second"] / base["requests_per_second"], base, measured)
        )
    pairs.sort(key=lambda pair: pair[0])
    ratio, base, measured = pairs[len(pairs) // 2]
    print(
        f"  {name:<14} {ratio:6.3f} × floor (pairs: {', '.join(f'{r:.2f}' for r, _, _ in pairs)})",
        flush=True,
    )
    return {
        **measured,
        "floor_requests_per_second": base["requests_per_second"],
        "ratio_to_floor": round(ratio, 3),
        "all_ratios": [round(r, 3) for r, _, _ in pairs],
    }


def split(values: Path, parts: int) -> list[Path]:
    """Deal single-use values into `parts` files, one per measured slice."""
    lines = values.read_text().split()
    chunks = []
    for index in range(parts):
        chunk = values.with_name(f"{values.name}.{index}")
        chunk.write_text("\n".join(lines[index::parts]))
        chunks.append(chunk)
    return chunks


if __name__ == "__main__":
    main()
