"""The rules for the URIs a client registers: redirect URIs (RFC 6749 §3.1.2, RFC 9700 §4.1,
RFC 8252 §7.3 for native apps on loopback) and the origins of browser apps (CORS), and how a
requested redirect_uri is matched against them.
"""

from __future__ import annotations

import re
from urllib.parse import SplitResult, urlsplit

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

LOOPBACK_HOSTS = {"127.0.0.1", "::1"}
# RFC 8252 §7.1: a native app's private-use scheme, a domain name of its own reversed.
PRIVATE_USE_SCHEME = re.compile(r"[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+")
LOCAL_HTTP_HOSTS = LOOPBACK_HOSTS | {"localhost"}


def parsed_url(value: str) -> SplitResult | None:
    """The parts of a URL, or None when it cannot be one (a malformed host or port)."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  (raises ValueError on a malformed or out-of-range port)
    except ValueError:
        return None
    return parts


def validate_redirect_uris(value: object) -> None:
    """Absolute https URIs, or http on a loopback host (RFC 8252 §7.3); no fragment, no wildcard
    (RFC 6749 §3.1.2, RFC 9700 §4.1)."""
    if not isinstance(value, list) or not value:
        raise ValidationError(_("Register at least one redirect URI."))
    for uri in value:
        if not isinstance(uri, str):
            raise ValidationError(_("Each redirect URI must be text."))
        if is_private_use(uri):
            continue  # allowed for native apps only (validate_for_kind, Client.clean)
        parts = parsed_url(uri)
        if parts is None:
            raise ValidationError(_("%(uri)s is not a valid URI."), params={"uri": uri})
        if "*" in uri:
            raise ValidationError(_("%(uri)s: wildcards are not allowed."), params={"uri": uri})
        if parts.fragment or uri.endswith("#"):
            raise ValidationError(_("%(uri)s: a fragment is not allowed."), params={"uri": uri})
        if not parts.hostname or any(c.isspace() for c in uri):
            raise ValidationError(_("%(uri)s is not an absolute URI."), params={"uri": uri})
        if parts.username is not None or parts.password is not None:
            # https://accounts.example.com@evil.example/ reads as the first host to people.
            raise ValidationError(
                _("%(uri)s: a user name or password is not allowed."), params={"uri": uri}
            )
        if parts.scheme == "https":
            continue
        if parts.scheme == "http" and parts.hostname in LOCAL_HTTP_HOSTS:
            continue
        raise ValidationError(
            _("%(uri)s: use https (http only for 127.0.0.1, [::1] or localhost)."),
            params={"uri": uri},
        )


def is_private_use(uri: str) -> bool:
    """RFC 8252 §7.1: `com.example.app:/callback`, with no authority, user info or fragment."""
    parts = parsed_url(uri)
    return (
        parts is not None
        and PRIVATE_USE_SCHEME.fullmatch(parts.scheme) is not None
        and uri.startswith(f"{parts.scheme}:/")
        and not uri.startswith(f"{parts.scheme}://")
        and not parts.netloc
        and parts.path.startswith("/")
        and not parts.fragment
        and "#" not in uri
        and "*" not in uri
        and not UNSEEN_IN_URLS.search(uri)
        and uri.isascii()
    )


def validate_for_kind(kind: str, uris: list[str], *, public: bool) -> None:
    """What each kind of app may register: a web server app keeps a secret and answers on https
    (http only on this machine's own names, for development); a single-page app is public and
    answers on https (or http on localhost); a native app is public and answers on https, on
    loopback with any port, or on a private-use scheme (RFC 8252 §7)."""
    if (kind == "web") == public:
        raise ValidationError(_("A web server app keeps a secret; other kinds of app cannot."))
    for uri in uris:
        if not isinstance(uri, str):
            continue  # the field's own validator says so
        if is_private_use(uri):
            if kind != "native":
                raise ValidationError(
                    _("%(uri)s: only native apps may use a scheme of their own."),
                    params={"uri": uri},
                )
        elif kind == "native" and uri.startswith("http:") and not is_loopback(uri):
            raise ValidationError(
                _("%(uri)s: native apps use http only on 127.0.0.1 or [::1] (RFC 8252)."),
                params={"uri": uri},
            )


def validate_post_logout_redirect_uris(value: object) -> None:
    """As redirect URIs (OpenID Connect RP-Initiated Logout §3), but none is fine."""
    if value != []:
        validate_redirect_uris(value)


def validate_backchannel_logout_uri(value: object) -> None:
    """https, or http on a loopback host; no fragment (Back-Channel Logout §2.2)."""
    if value:
        validate_redirect_uris([value])


def validate_origins(value: object) -> None:
    """Origins for CORS: scheme, host and port only; https, or http on a loopback host."""
    if not isinstance(value, list):
        raise ValidationError(_("Origins must be a list."))
    for origin in value:
        parts = parsed_url(origin) if isinstance(origin, str) else None
        if (
            parts is None
            or not parts.hostname
            or parts.username is not None
            or parts.path not in {"", "/"}
            or parts.query
            or parts.fragment
            or "*" in origin
            or not (
                parts.scheme == "https"
                or (parts.scheme == "http" and parts.hostname in LOCAL_HTTP_HOSTS)
            )
        ):
            raise ValidationError(
                _("%(origin)s is not an origin (https://host[:port]) this server accepts."),
                params={"origin": origin},
            )


DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(uri: str) -> str | None:
    """The origin as a browser sends it: scheme and host in lower case, the port only when it
    is not the scheme's default, never user information."""
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        return None
    if not parts.scheme or not parts.hostname:
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    suffix = f":{port}" if port and port != DEFAULT_PORTS.get(parts.scheme) else ""
    return f"{parts.scheme.lower()}://{host.lower()}{suffix}"


UNSEEN_IN_URLS = re.compile(r"[\x00-\x20\x7f]")


def redirect_uri_matches(requested: str, registered: str, *, any_loopback_port: bool) -> bool:
    """Exact, byte-for-byte match (RFC 9700 §4.1.3), except that a native app's loopback
    redirect URI may use any port (RFC 8252 §7.3), written as a port is: 1 to 65535, no leading
    zero. Only native apps (public clients) listen on a port the system gives them; a web
    client's loopback URI is matched exactly, like any other."""
    if requested == registered:
        return True
    if not any_loopback_port or UNSEEN_IN_URLS.search(requested):
        return False  # urlsplit would drop them: the comparison would not be byte for byte
    try:
        asked, known = urlsplit(requested), urlsplit(registered)
        asked_port, _known_port = asked.port, known.port
    except ValueError:
        return False
    return (
        is_loopback(registered)
        and asked.scheme == known.scheme
        and asked.hostname == known.hostname
        and asked_port is not None
        and 0 < asked_port
        and asked.netloc.endswith(f":{asked_port}")  # not :0, not :08080
        and (asked.path, asked.query, asked.fragment) == (known.path, known.query, known.fragment)
        and asked.username is None
        and asked.password is None
    )


def is_loopback(uri: str) -> bool:
    """A native app's redirect URI on this device's loopback interface (RFC 8252 §7.3): any
    program on the device can listen there, so it proves nothing about which app answers."""
    parts = parsed_url(uri)
    return parts is not None and parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS
