"""What developers do with their apps, over the authorization server's client services: the
same registration, change and deletion that operators use, with the console's limits (no
first-party apps, a number of apps per person, apps start in development)."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from infra.origin import NOWHERE, Origin
from infra.ratelimit import rate_hit
from oauth.clients import client_delete, client_register
from oauth.models import Client, ClientMember

from .team import UserId, owned_count


class AppRefused(Exception):
    """An app the person may not create now; its message is for the person."""


def app_kind_type(kind: str) -> str:
    """A web server app keeps a secret; single-page and native apps cannot (RFC 8252 §8.4)."""
    return Client.Type.CONFIDENTIAL if kind == Client.Kind.WEB else Client.Type.PUBLIC


def app_prepare(client: Client, *, live: bool = False) -> Client:
    """What no developer chooses, whatever is posted: never first-party (consent is always
    asked), never a resource server for others' tokens, and in development until reviewed."""
    client.client_type = app_kind_type(client.kind)
    client.first_party = False
    client.introspect_any_token = False
    client.live = live
    return client


def app_create_check(*, owner_id: UserId, origin: Origin = NOWHERE) -> None:
    """At most DEVELOPER_MAX_APPS apps owned per person, and creation rate-limited."""
    if owned_count(owner_id) >= settings.DEVELOPER_MAX_APPS:
        raise AppRefused(
            _("You own %(count)d apps, the most one person may own. Delete one first.")
            % {"count": settings.DEVELOPER_MAX_APPS}
        )
    verdict = rate_hit("app_create_person", str(owner_id), origin=origin, user_id=str(owner_id))
    if not verdict.allowed:
        raise AppRefused(_("You have created many apps recently. Please try again later."))


def app_create(
    client: Client, *, owner_id: UserId, origin: Origin = NOWHERE
) -> tuple[Client, str | None]:
    """Register the app with its creator as owner; the secret is returned to be shown once."""
    app_create_check(owner_id=owner_id, origin=origin)
    app_prepare(client)
    with transaction.atomic():
        secret = client_register(client, origin=origin, actor_id=owner_id)
        ClientMember.objects.create(client=client, user_id=owner_id, role=ClientMember.Role.OWNER)
    return client, secret


def app_delete(client: Client, *, actor_id: UserId, origin: Origin = NOWHERE) -> None:
    """Its grants, codes and consents go with it: every refresh token stops working at once."""
    client_delete(client, origin=origin, actor_id=actor_id)
