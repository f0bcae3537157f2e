"""OAuth clients and what they were granted (the signing keys: key_models.py).

Secrets are never stored: codes, refresh tokens and client secrets appear here only as SHA-256
hashes (see hashing.py).
"""

from __future__ import annotations

import secrets
import unicodedata

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .hashing import secret_matches
from .key_models import SigningKey as SigningKey  # a model of this app, defined apart
from .redirect_uris import (
    is_loopback,
    is_private_use,
    origin_of,
    redirect_uri_matches,
    validate_backchannel_logout_uri,
    validate_for_kind,
    validate_origins,
    validate_post_logout_redirect_uris,
    validate_redirect_uris,
)

# validate_scopes: imported here too for the first migration, which names oauth.models'.
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

    client_id = models.CharField(
        _("client id"), max_length=64, unique=True, default=generate_client_id
    )
    name = models.CharField(_("name"), max_length=100, unique=True)
    client_type = models.CharField(
        _("client type"), max_length=12, choices=Type.choices, default=Type.CONFIDENTIAL
    )
    secret_hash = models.CharField(_("secret hash"), max_length=64, blank=True, editable=False)
    # A rotation with overlap: the secret before the current one, valid until then. On the
    # client's own row, so that checking both costs the token endpoint no query.
    previous_secret_hash = models.CharField(
        _("previous secret hash"), max_length=64, blank=True, editable=False
    )
    previous_secret_expires_at = models.DateTimeField(
        _("previous secret expires at"), null=True, blank=True, editable=False
    )
    redirect_uris = models.JSONField(
        _("redirect uris"), default=list, validators=[validate_redirect_uris]
    )
    allowed_scopes = models.CharField(
        _("allowed scopes"),
        max_length=200,
        default=scope_string(list(SUPPORTED_SCOPES)),
        validators=[validate_scopes],
    )
    grant_types = models.JSONField(_("grant types"), default=default_grant_types)
    first_party = models.BooleanField(
        _("first party"),
        default=False,
        help_text=_("First-party clients are trusted: people are not asked to consent."),
    )
    native = models.BooleanField(
        _("native"),
        default=False,
        help_text=_("Our own mobile apps: may trade an upstream SDK sign-in for tokens."),
    )
    introspect_any_token = models.BooleanField(
        _("introspect any token"),
        default=False,
        help_text=_("Resource servers: may introspect tokens issued to other clients."),
    )
    is_active = models.BooleanField(_("is active"), default=True)
    access_token_lifetime = models.PositiveIntegerField(
        _("access token lifetime"),
        null=True,
        blank=True,
        help_text=_("Seconds; empty for the server's default."),
    )
    refresh_token_lifetime = models.PositiveIntegerField(
        _("refresh token lifetime"),
        null=True,
        blank=True,
        help_text=_("Idle seconds; empty for the server's default."),
    )
    allowed_origins = models.JSONField(
        _("allowed origins"),
        default=list,
        blank=True,
        validators=[validate_origins],
        help_text=_(
            "Public clients in browsers: origins that may call the token, revocation and "
            "userinfo endpoints (CORS), besides those of the redirect URIs."
        ),
    )
    # OpenID Connect RP-Initiated Logout §3 (exact match) and Back-Channel Logout §2.2.
    post_logout_redirect_uris = models.JSONField(
        _("post logout redirect uris"),
        default=list,
        blank=True,
        validators=[validate_post_logout_redirect_uris],
        help_text=_("Where the app may send people back to after signing them out here."),
    )
    backchannel_logout_uri = models.URLField(
        _("backchannel logout uri"),
        blank=True,
        validators=[validate_backchannel_logout_uri],
        help_text=_("Where logout tokens are POSTed when a session the app got tokens in ends."),
    )
    logo_uri = models.URLField(
        _("logo uri"), blank=True, help_text=_("Shown to people on the consent page.")
    )
    homepage_uri = models.URLField(_("homepage uri"), blank=True)
    privacy_policy_uri = models.URLField(_("privacy policy uri"), blank=True)
    terms_uri = models.URLField(_("terms uri"), blank=True)
    kind = models.CharField(
        _("kind"),
        max_length=8,
        choices=Kind.choices,
        blank=True,
        help_text=_("Empty: set up by an operator."),
    )
    live = models.BooleanField(
        _("live"),
        default=True,
        help_text=_("An app in development may be authorized only by its team and testers."),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    objects = ClientQuerySet.as_manager()

    class Meta:
        verbose_name = _("client")
        verbose_name_plural = _("clients")
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


# Defined beside, kept importable from here; importing them registers them with this app.
from .consent_model import Consent  # noqa: E402
from .grant_models import (  # noqa: E402
    AuthorizationCode,
    Grant,
    GrantQuerySet,
    RefreshToken,
    refresh_token_expiry,
)
from .logout_models import LogoutDelivery  # noqa: E402
from .members import ClientMember  # noqa: E402

__all__ = [
    "AuthorizationCode", "ClientMember", "Consent", "Grant", "GrantQuerySet", "LogoutDelivery",
    "RefreshToken", "SigningKey", "refresh_token_expiry",
]  # fmt: skip
