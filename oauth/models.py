"""OAuth clients, what they were granted, and the keys tokens are signed with.

Secrets are never stored: codes, refresh tokens and client secrets appear here only as SHA-256
hashes (see hashing.py), and signing keys' private parts are encrypted (see keys.py).
"""

from __future__ import annotations

import re
import secrets
import unicodedata
import uuid
from datetime import datetime, timedelta
from urllib.parse import SplitResult, urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .hashing import secret_matches
from .scopes import SUPPORTED_SCOPES, requested_scopes, scope_list, scope_string

LOOPBACK_HOSTS = {"127.0.0.1", "::1"}
LOCAL_HTTP_HOSTS = LOOPBACK_HOSTS | {"localhost"}


def generate_client_id() -> str:
    return secrets.token_urlsafe(18)


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


def validate_scopes(value: str) -> None:
    unknown = set(scope_list(value)) - set(SUPPORTED_SCOPES)
    if unknown:
        raise ValidationError(
            _("Unknown scopes: %(scopes)s."), params={"scopes": " ".join(sorted(unknown))}
        )
    if not scope_list(value):
        raise ValidationError(_("Allow at least one scope."))


def default_grant_types() -> list[str]:
    return [GrantType.AUTHORIZATION_CODE, GrantType.REFRESH_TOKEN]


class GrantType(models.TextChoices):
    AUTHORIZATION_CODE = "authorization_code", _("Authorization code")
    REFRESH_TOKEN = "refresh_token", _("Refresh token")


class ClientQuerySet(models.QuerySet["Client"]):
    def active(self) -> ClientQuerySet:
        return self.filter(is_active=True)


class Client(models.Model):
    """A registered application, with authlib's ClientMixin interface."""

    class Type(models.TextChoices):
        CONFIDENTIAL = "confidential", _("Confidential (has a secret)")
        PUBLIC = "public", _("Public (no secret, PKCE required)")

    client_id = models.CharField(max_length=64, unique=True, default=generate_client_id)
    name = models.CharField(max_length=100, unique=True)
    client_type = models.CharField(max_length=12, choices=Type.choices, default=Type.CONFIDENTIAL)
    secret_hash = models.CharField(max_length=64, blank=True, editable=False)
    redirect_uris = models.JSONField(default=list, validators=[validate_redirect_uris])
    allowed_scopes = models.CharField(
        max_length=200, default=scope_string(list(SUPPORTED_SCOPES)), validators=[validate_scopes]
    )
    grant_types = models.JSONField(default=default_grant_types)
    first_party = models.BooleanField(
        default=False, help_text="First-party clients are trusted: people are not asked to consent."
    )
    introspect_any_token = models.BooleanField(
        default=False,
        help_text="Resource servers: may introspect tokens issued to other clients.",
    )
    is_active = models.BooleanField(default=True)
    access_token_lifetime = models.PositiveIntegerField(
        null=True, blank=True, help_text="Seconds; empty for the server's default."
    )
    refresh_token_lifetime = models.PositiveIntegerField(
        null=True, blank=True, help_text="Idle seconds; empty for the server's default."
    )
    allowed_origins = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_origins],
        help_text="Public clients in browsers: origins that may call the token, revocation and "
        "userinfo endpoints (CORS), besides those of the redirect URIs.",
    )
    logo_uri = models.URLField(blank=True, help_text="Shown to people on the consent page.")
    homepage_uri = models.URLField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = ClientQuerySet.as_manager()

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """People decide on the consent page by the name: no invisible characters in it (a
        zero-width space, a right-to-left override) that make one name look like another."""
        if any(unicodedata.category(c) in {"Cc", "Cf"} for c in self.name or ""):
            raise ValidationError(
                {
                    "name": _(
                        "People see this name: it may not hold invisible or control characters."
                    )
                }
            )

    @property
    def is_public(self) -> bool:
        return self.client_type == self.Type.PUBLIC

    def cors_origins(self) -> frozenset[str]:
        """Where a browser may call the token, revocation and userinfo endpoints from: public
        clients only (a browser cannot keep a secret), their redirect URIs' origins and any
        listed explicitly."""
        if not self.is_public:
            return frozenset()
        origins = {origin_of(uri) for uri in [*self.redirect_uris, *self.allowed_origins]}
        return frozenset(origin for origin in origins if origin)

    def access_token_seconds(self) -> int:
        return self.access_token_lifetime or settings.ACCESS_TOKEN_LIFETIME

    def refresh_token_seconds(self) -> int:
        return self.refresh_token_lifetime or settings.REFRESH_TOKEN_IDLE_LIFETIME

    # authlib's ClientMixin

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        # Only an unambiguous registration may stand in for an omitted redirect_uri.
        return self.redirect_uris[0] if len(self.redirect_uris) == 1 else None

    def get_allowed_scope(self, scope: str | None) -> str | None:
        """The requested scopes, or when none are asked for all allowed ones but openid (a
        request is an OpenID Connect one only if it says so); None if too many."""
        allowed = scope_list(self.allowed_scopes)
        requested = requested_scopes(scope) or [name for name in allowed if name != "openid"]
        if not requested or not set(requested) <= set(allowed):
            return None  # nothing to ask for (a client allowed only openid must ask for it)
        return scope_string(requested)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return any(redirect_uri_matches(redirect_uri, uri) for uri in self.redirect_uris)

    def check_client_secret(self, client_secret: str) -> bool:
        return not self.is_public and secret_matches(client_secret, self.secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.is_public:
            return method == "none" and endpoint != "introspection"
        return method in {"client_secret_basic", "client_secret_post"}

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and GrantType.AUTHORIZATION_CODE in self.grant_types

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.grant_types


UNSEEN_IN_URLS = re.compile(r"[\x00-\x20\x7f]")


def redirect_uri_matches(requested: str, registered: str) -> bool:
    """Exact, byte-for-byte match (RFC 9700 §4.1.3), except that a loopback redirect URI of a
    native app may use any port (RFC 8252 §7.3)."""
    if requested == registered:
        return True
    if UNSEEN_IN_URLS.search(requested):
        return False  # urlsplit would drop them: the comparison would not be byte for byte
    try:
        asked, known = urlsplit(requested), urlsplit(registered)
        asked_port, _known_port = asked.port, known.port
    except ValueError:
        return False
    return (
        known.scheme == "http"
        and known.hostname in LOOPBACK_HOSTS
        and asked.scheme == known.scheme
        and asked.hostname == known.hostname
        and asked_port is not None
        and (asked.path, asked.query, asked.fragment) == (known.path, known.query, known.fragment)
        and asked.username is None
        and asked.password is None
    )


class GrantQuerySet(models.QuerySet["Grant"]):
    def active(self) -> GrantQuerySet:
        return self.filter(revoked_at__isnull=True, expires_at__gt=timezone.now())


class Grant(models.Model):
    """One person's authorization of one client: a family of refresh tokens and access tokens.

    Access tokens carry the grant's id, so revoking the grant ends the whole family.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    client = models.ForeignKey(Client, on_delete=models.CASCADE)
    scope = models.TextField()
    auth_time = models.DateTimeField(help_text="When the person signed in to authorize it.")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(help_text="The absolute end of the grant's refresh tokens.")
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Unique: a code starts at most one grant, so inserting the grant is what uses up the code.
    authorization_code = models.OneToOneField(
        "AuthorizationCode",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="grant",
    )

    objects = GrantQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.client} for {self.user}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


def unique_hash(field: str, name: str) -> models.UniqueConstraint:
    """Codes and tokens are found by the exact hash of what was presented. Declared as a
    constraint rather than `unique=True`, which on PostgreSQL adds a LIKE-pattern index beside
    the unique one: no exact lookup uses it, and every token response would write to it."""
    return models.UniqueConstraint(fields=[field], name=name)


class AuthorizationCode(models.Model):
    """An issued code, kept after use so that a replay can be detected (RFC 6749 §4.1.2).

    It is used once it has started a grant (`Grant.authorization_code`).
    """

    code_hash = models.CharField(max_length=64)
    client = models.ForeignKey(Client, on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    redirect_uri = models.TextField(blank=True)
    scope = models.TextField()
    nonce = models.TextField(blank=True)
    code_challenge = models.CharField(max_length=128, blank=True)
    code_challenge_method = models.CharField(max_length=10, blank=True)
    auth_time = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [unique_hash("code_hash", "code_hash_unique")]

    def __str__(self) -> str:
        return f"code for {self.client} ({self.code_hash[:8]}…)"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def issued_grant(self) -> Grant | None:
        """The grant this code started, if it has been exchanged."""
        try:
            return self.grant
        except Grant.DoesNotExist:
            return None

    # authlib's AuthorizationCodeMixin (OpenID Connect flavour)

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce or None

    def get_auth_time(self) -> int:
        return int(self.auth_time.timestamp())

    def get_acr(self) -> None:
        return None

    def get_amr(self) -> None:
        return None


class RefreshToken(models.Model):
    """One refresh token of a grant. Rotation marks it used; presenting it again is theft."""

    token_hash = models.CharField(max_length=64)
    grant = models.ForeignKey(Grant, on_delete=models.CASCADE, related_name="refresh_tokens")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [unique_hash("token_hash", "refresh_token_hash_unique")]

    def __str__(self) -> str:
        return f"refresh token {self.token_hash[:8]}…"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    # authlib's TokenMixin

    def check_client(self, client: Client) -> bool:
        return self.grant.client_id == client.pk

    def get_scope(self) -> str:
        return self.grant.scope

    def get_expires_in(self) -> int:
        return max(0, int((self.expires_at - timezone.now()).total_seconds()))

    def is_revoked(self) -> bool:
        return self.used_at is not None or not self.grant.is_active

    def get_user(self):  # type: ignore[no-untyped-def]
        return self.grant.user

    def get_client(self) -> Client:
        return self.grant.client


def refresh_token_expiry(grant: Grant, client: Client, now: datetime) -> datetime:
    """Idle lifetime from now, never past the grant's absolute end."""
    return min(now + timedelta(seconds=client.refresh_token_seconds()), grant.expires_at)


class Consent(models.Model):
    """The scopes a person has allowed a client; asked again only for scopes beyond these."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    client = models.ForeignKey(Client, on_delete=models.CASCADE)
    scope = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "client"], name="consent_user_client_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} allows {self.client}: {self.scope}"

    def covers(self, scope: str) -> bool:
        return set(scope_list(scope)) <= set(scope_list(self.scope))


class SigningKey(models.Model):
    """A key that signs access tokens and id_tokens.

    `next` keys are published ahead of use, the `active` one signs, and a `retired` one stays
    published until every token it signed has expired.
    """

    class State(models.TextChoices):
        NEXT = "next", _("Next")
        ACTIVE = "active", _("Active")
        RETIRED = "retired", _("Retired")

    kid = models.CharField(max_length=64, unique=True)
    algorithm = models.CharField(max_length=10)
    state = models.CharField(max_length=8, choices=State.choices, default=State.NEXT)
    private_key_encrypted = models.TextField(editable=False)
    public_jwk = models.JSONField(editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    activated_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["algorithm"],
                condition=models.Q(state="active"),
                name="signing_key_one_active_per_algorithm",
            )
        ]

    def __str__(self) -> str:
        return f"{self.algorithm} {self.kid} ({self.state})"


class SecurityEvent(models.Model):
    """Something that happened that an operator may need to look at later. Never a secret."""

    class Kind(models.TextChoices):
        SIGN_IN = "sign_in", _("Signed in")
        SIGN_IN_FAILED = "sign_in_failed", _("Sign-in failed")
        TOKENS_ISSUED = "tokens_issued", _("Tokens issued")
        TOKENS_REFRESHED = "tokens_refreshed", _("Tokens refreshed")
        REFRESH_TOKEN_REUSED = "refresh_token_reused", _("Refresh token reused")
        CODE_REPLAYED = "code_replayed", _("Authorization code replayed")
        CLIENT_CREATED = "client_created", _("Client created")
        CLIENT_SECRET_ROTATED = "client_secret_rotated", _("Client secret rotated")
        CLIENT_DISABLED = "client_disabled", _("Client disabled")
        CLIENT_ENABLED = "client_enabled", _("Client enabled")
        GRANTS_REVOKED = "grants_revoked", _("Grants revoked")
        CONSENT_GRANTED = "consent_granted", _("Consent granted")
        CONSENT_REVOKED = "consent_revoked", _("Consent revoked")
        KEY_ROTATED = "key_rotated", _("Signing key rotated")
        IDENTITY_LINKED = "identity_linked", _("Provider account linked")
        IDENTITY_UNLINKED = "identity_unlinked", _("Provider account unlinked")
        RATE_LIMITED = "rate_limited", _("Rate limit reached")

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    client = models.ForeignKey(Client, null=True, blank=True, on_delete=models.SET_NULL)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]
        # For the admin's list by kind, newest first. (A plain index on `kind` would also
        # bring a LIKE-pattern index that no query uses, maintained on every event.)
        indexes = [models.Index(fields=["kind", "-created_at"], name="event_kind_recent")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.created_at:%Y-%m-%d %H:%M:%S}"
