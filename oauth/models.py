"""OAuth clients, what they were granted, and the keys tokens are signed with.

Secrets are never stored: codes, refresh tokens and client secrets appear here only as SHA-256
hashes (see hashing.py), and signing keys' private parts are encrypted (see keys.py).
"""

from __future__ import annotations

import secrets
import unicodedata
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .hashing import secret_matches
from .people import Person
from .redirect_uris import (
    is_loopback,
    is_private_use,
    origin_of,
    redirect_uri_matches,
    validate_for_kind,
    validate_origins,
    validate_redirect_uris,
)
from .scopes import SUPPORTED_SCOPES, requested_scopes, scope_list, scope_string, validate_scopes

# How clients authenticate (RFC 7591 §2's names): confidential ones with their secret, public
# ones by naming themselves. Introspection is for confidential clients only.
CONFIDENTIAL_AUTH_METHODS = ("client_secret_basic", "client_secret_post")
PUBLIC_AUTH_METHOD = "none"
CLIENT_AUTH_METHODS = (*CONFIDENTIAL_AUTH_METHODS, PUBLIC_AUTH_METHOD)


def generate_client_id() -> str:
    return secrets.token_urlsafe(18)


def default_grant_types() -> list[str]:
    return [GrantType.AUTHORIZATION_CODE, GrantType.REFRESH_TOKEN]


class GrantType(models.TextChoices):
    AUTHORIZATION_CODE = "authorization_code", _("Authorization code")
    REFRESH_TOKEN = "refresh_token", _("Refresh token")


NATIVE_ONLY = _("Only a public first-party client can be a native app of ours.")


class ClientQuerySet(models.QuerySet["Client"]):
    def active(self) -> ClientQuerySet:
        return self.filter(is_active=True)


class Client(models.Model):
    """A registered application, with authlib's ClientMixin interface."""

    class Type(models.TextChoices):
        CONFIDENTIAL = "confidential", _("Confidential (has a secret)")
        PUBLIC = "public", _("Public (no secret, PKCE required)")

    class Kind(models.TextChoices):
        """What the app is, for apps from the developer console: it sets the client type and
        which redirect URIs are allowed (redirect_uris.validate_for_kind)."""

        WEB = "web", _("Web server app")
        SPA = "spa", _("Single-page app")
        NATIVE = "native", _("Native app")

    client_id = models.CharField(max_length=64, unique=True, default=generate_client_id)
    name = models.CharField(max_length=100, unique=True)
    client_type = models.CharField(max_length=12, choices=Type.choices, default=Type.CONFIDENTIAL)
    secret_hash = models.CharField(max_length=64, blank=True, editable=False)
    # A rotation with overlap: the secret before the current one, valid until then. On the
    # client's own row, so that checking both costs the token endpoint no query.
    previous_secret_hash = models.CharField(max_length=64, blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    redirect_uris = models.JSONField(default=list, validators=[validate_redirect_uris])
    allowed_scopes = models.CharField(
        max_length=200, default=scope_string(list(SUPPORTED_SCOPES)), validators=[validate_scopes]
    )
    grant_types = models.JSONField(default=default_grant_types)
    first_party = models.BooleanField(
        default=False, help_text="First-party clients are trusted: people are not asked to consent."
    )
    native = models.BooleanField(
        default=False,
        help_text="Our own mobile apps: may trade an upstream SDK sign-in for tokens.",
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
    privacy_policy_uri = models.URLField(blank=True)
    terms_uri = models.URLField(blank=True)
    kind = models.CharField(
        max_length=8, choices=Kind.choices, blank=True, help_text="Empty: set up by an operator."
    )
    live = models.BooleanField(
        default=True,
        help_text="An app in development may be authorized only by its team and testers.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = ClientQuerySet.as_manager()

    class Meta:
        # An upstream sign-in stands in for the person's consent only in our own apps.
        constraints = [
            models.CheckConstraint(
                condition=models.Q(native=False) | models.Q(client_type="public", first_party=True),
                name="client_native_public_first_party",
                violation_error_message=NATIVE_ONLY,
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """People decide on the consent page by the name: no invisible characters in it (a
        zero-width space, a right-to-left override) that make one name look like another.
        A native app of ours is public and first-party (the constraint, said by its field)."""
        errors: dict[str, object] = {}
        if any(unicodedata.category(c) in {"Cc", "Cf"} for c in self.name or ""):
            errors["name"] = _(
                "People see this name: it may not hold invisible or control characters."
            )
        if self.native and not (self.is_public and self.first_party):
            errors["native"] = NATIVE_ONLY
        if errors:
            raise ValidationError(errors)
        uris = self.redirect_uris if isinstance(self.redirect_uris, list) else []
        if self.kind:
            validate_for_kind(self.kind, uris, public=self.is_public)
        elif not self.native and any(is_private_use(uri) for uri in uris if isinstance(uri, str)):
            raise ValidationError(
                {"redirect_uris": _("Only native apps may use a scheme of their own.")}
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
        return any(
            redirect_uri_matches(redirect_uri, uri, any_loopback_port=self.is_public)
            for uri in self.redirect_uris
        )

    def identity_unproven(self, redirect_uri: str) -> bool:
        """RFC 8252 §8.6: a public client answering on loopback cannot be told from any other
        program on the device, so a consent given to it before must not approve this request
        silently: the person is asked again."""
        return self.is_public and is_loopback(redirect_uri)

    def check_client_secret(self, client_secret: str) -> bool:
        """The current secret, or the previous one during its overlap. Both are compared every
        time, constant-time, so timing tells nothing of which matched or whether one exists."""
        current = secret_matches(client_secret, self.secret_hash)
        previous = secret_matches(client_secret, self.previous_secret_hash)
        overlapping = (
            self.previous_secret_expires_at is not None
            and self.previous_secret_expires_at > timezone.now()
        )
        return not self.is_public and (current or (previous and overlapping))

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.is_public:
            return method == PUBLIC_AUTH_METHOD and endpoint != "introspection"
        return method in CONFIDENTIAL_AUTH_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and GrantType.AUTHORIZATION_CODE in self.grant_types

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.grant_types


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
    """One refresh token of a grant. Rotation marks it used; presenting it again is theft, unless
    it comes within REFRESH_RETRY_GRACE, as a retry (retries.py)."""

    token_hash = models.CharField(max_length=64)
    grant = models.ForeignKey(Grant, on_delete=models.CASCADE, related_name="refresh_tokens")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)
    used_at = models.DateTimeField(null=True, blank=True)
    # The answer to the request that used this token, sealed with a key only the token yields,
    # written by the same statement that sets used_at; for retries within the grace only.
    retry_answer = models.BinaryField(null=True, blank=True)

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

    def get_user(self) -> Person:
        return self.grant.user

    def get_client(self) -> Client:
        return self.grant.client


def refresh_token_expiry(grant: Grant, client: Client, now: datetime) -> datetime:
    """Idle lifetime from now, never past the grant's absolute end."""
    return min(now + timedelta(seconds=client.refresh_token_seconds()), grant.expires_at)


# Defined beside, kept importable from here.
from .consent_model import Consent  # noqa: E402
from .key_model import SigningKey  # noqa: E402
from .members import ClientMember  # noqa: E402

__all__ = ["ClientMember", "Consent", "SigningKey"]
