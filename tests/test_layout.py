"""The shape of the code that keeps it maintainable, checked rather than hoped for: the apps
depend in one direction, production never imports the tests, the authorization server knows
no upstream provider, and no module grows past what one reader can hold."""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = [
    "accounts", "authserver", "democlient", "developers", "events", "fakeproviders", "infra",
    "oauth",
]  # fmt: skip
# What accounts/ may use of oauth/: its public services.
OAUTH_PUBLIC = {
    "oauth.authentication",
    "oauth.backchannel",
    "oauth.connected_apps",
    "oauth.native",
    "oauth.sign_in",
}
# What the developer console may use of oauth/: clients' services and rules, and the server
# its registration endpoints join.
OAUTH_FOR_DEVELOPERS = {
    "oauth.clients", "oauth.models", "oauth.members", "oauth.forms", "oauth.redirect_uris",
    "oauth.scopes", "oauth.hashing", "oauth.server", "oauth.errors", "oauth.discovery",
}  # fmt: skip
MAX_LINES = 400


def sources(*packages: str) -> list[Path]:
    return sorted(
        path
        for package in packages
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    )


def imported(path: Path) -> set[str]:
    """The modules a file imports, relative imports resolved."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(part for part in (base, node.module or "") if part)
            found.add(module)
            found |= {f"{module}.{alias.name}" for alias in node.names}
    return found


def importers(packages: list[str], forbidden: str) -> list[str]:
    return importers_of(sources(*packages), forbidden)


def importers_of(paths: list[Path], forbidden: str) -> list[str]:
    return [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in paths
        for name in sorted(imported(path))
        if name == forbidden or name.startswith(f"{forbidden}.")
    ]


def everything_but_the_tests() -> list[Path]:
    """Every .py file of the repository outside tests/ and hidden directories (.venv, .git)."""
    found = []
    for directory, subdirectories, files in os.walk(ROOT):
        subdirectories[:] = sorted(
            name
            for name in subdirectories
            if not name.startswith(".") and Path(directory, name) != ROOT / "tests"
        )
        found += [Path(directory, name) for name in sorted(files) if name.endswith(".py")]
    return found


def test_production_code_never_imports_the_tests() -> None:
    files = everything_but_the_tests()
    offenders = importers_of(files, "tests")

    assert ROOT / "fakeproviders" / "management" / "commands" / "fakeproviders.py" in files
    assert offenders == []


def test_the_fakes_are_free_of_django() -> None:
    """They run in any process: only the app's shell (apps.py, the command) touches Django."""
    package = ROOT / "fakeproviders"
    shell = {package / "apps.py", *(package / "management").rglob("*.py")}
    fakes = [path for path in package.rglob("*.py") if path not in shell]

    assert package / "server.py" in fakes
    assert importers_of(fakes, "django") == []


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("oauth", "accounts"),  # the person is settings.AUTH_USER_MODEL
        ("oauth", "developers"),  # the console is built on the server, never the other way
        ("accounts", "developers"),
        ("developers", "accounts"),
        ("infra", "developers"),
        ("events", "developers"),
        ("infra", "accounts"),
        ("infra", "oauth"),
        ("infra", "events"),
        ("events", "accounts"),
        ("events", "oauth"),
    ],
)
def test_dependencies_point_one_way(package: str, forbidden: str) -> None:
    assert importers([package], forbidden) == []


def test_accounts_uses_only_the_public_services_of_oauth() -> None:
    used = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in sources("accounts")
        for name in imported(path)
        if name.startswith("oauth.")
        and not any(name == public or name.startswith(f"{public}.") for public in OAUTH_PUBLIC)
    }
    assert used == set()


def test_the_console_uses_only_the_public_services_of_oauth() -> None:
    used = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in sources("developers")
        for name in imported(path)
        if name.startswith("oauth.")
        and not any(
            name == public or name.startswith(f"{public}.") for public in OAUTH_FOR_DEVELOPERS
        )
    }
    assert used == set()


def test_the_authorization_server_names_no_upstream_provider() -> None:
    provider = re.compile(r"google|naver|kakao", re.IGNORECASE)
    named = [
        str(path.relative_to(ROOT))
        for path in sources("oauth")
        + sorted((ROOT / "oauth").rglob("*.html"))
        + sorted((ROOT / "templates" / "oauth").rglob("*.html"))
        if provider.search(path.read_text())
    ]
    assert named == []


def test_no_module_is_longer_than_one_reader_can_hold() -> None:
    long = {
        str(path.relative_to(ROOT)): lines
        for path in sources(*PACKAGES, "bench")
        if (lines := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}
