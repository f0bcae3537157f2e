"""The apps a person has let act for them, and cutting one off: for the person's own page
(accounts/apps/)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Max

from events.recording import Kind, event_record
from infra.origin import NOWHERE, Origin

from .clients import CLIENT_ID_SHAPE
from .models import Client, Consent, Grant
from .people import Person
from .scopes import SCOPE_DESCRIPTIONS, SUPPORTED_SCOPES, scope_list
from .services import consent_withdraw, grants_end


@dataclass
class ConnectedApp:
    client: Client
    scopes: set[str] = field(default_factory=set)
    granted_at: datetime | None = None
    last_used_at: datetime | None = None

    def seen(self, at: datetime | None, *, granted: bool = False) -> None:
        if at is None:
            return
        if granted and (self.granted_at is None or at < self.granted_at):
            self.granted_at = at
        if self.last_used_at is None or at > self.last_used_at:
            self.last_used_at = at

    @property
    def scope_descriptions(self) -> list[str]:
        return [str(SCOPE_DESCRIPTIONS[s]) for s in SUPPORTED_SCOPES if s in self.scopes]


def connected_apps(user: Person) -> list[ConnectedApp]:
    """Apps with consent or a live grant, with what they may do and when they last did."""
    apps: dict[int, ConnectedApp] = {}
    for consent in Consent.objects.filter(user_id=user.pk).select_related("client"):
        app = apps.setdefault(consent.client_id, ConnectedApp(consent.client))
        app.scopes |= set(scope_list(consent.scope))
        app.seen(consent.created_at, granted=True)
    grants = (
        Grant.objects.active()
        .filter(user_id=user.pk)
        .select_related("client")
        .annotate(last_refresh_at=Max("refresh_tokens__created_at"))
    )
    for grant in grants:
        app = apps.setdefault(grant.client_id, ConnectedApp(grant.client))
        app.scopes |= set(scope_list(grant.scope))
        app.seen(grant.created_at, granted=True)
        app.seen(getattr(grant, "last_refresh_at", None))  # annotated above
    return sorted(apps.values(), key=lambda app: app.client.name.lower())


def connected_app_disconnect(
    *, user: Person, client_id: str, origin: Origin = NOWHERE
) -> Client | None:
    """Cut an app off: its grants and codes end at once and consent is asked again next time.
    None when no app has this client_id."""
    if not CLIENT_ID_SHAPE.fullmatch(client_id):
        return None  # a NUL, say, must not reach the database
    client = Client.objects.filter(client_id=client_id).first()
    if client is not None:
        consent_withdraw(user=user, client=client, origin=origin)
    return client


def connected_apps_end_all(
    *, user: Person, origin: Origin = NOWHERE, forget_consent: bool = False
) -> int:
    """Every app's grants and codes for `user` end at once (their refresh-token families stop
    working): after a password reset, when the account is deleted, and, with `forget_consent`,
    for a person who has lost every way to sign in. Returns how many grants were live."""
    ended = grants_end(user_id=user.pk)
    if forget_consent:
        Consent.objects.filter(user_id=user.pk).delete()
    if ended or forget_consent:
        event_record(
            Kind.GRANTS_REVOKED, origin=origin, user_id=user.pk, grants=ended, all_apps=True
        )
    return ended
