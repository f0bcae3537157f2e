"""The team of an app (owner, developers, viewers) and its testers: who may see and change what.

Owners manage everything, the team included; developers change the app and its testers;
viewers only look. Testers may authorize the app while it is in development and see nothing
here. An app always keeps an owner.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from infra.origin import NOWHERE, Origin
from oauth.clients import client_member_remove
from oauth.models import Client, ClientMember

Role = ClientMember.Role
UserId = uuid.UUID | str
TEAM_ROLES = (Role.OWNER, Role.DEVELOPER, Role.VIEWER)
MAY_CHANGE_APP = {Role.OWNER, Role.DEVELOPER}


class TeamError(Exception):
    """A change to a team that cannot be made; its message is for the person."""


def apps_of(user_id: UserId) -> QuerySet[Client]:
    """The apps whose team the person is on, newest first (testers see none here)."""
    return (
        Client.objects.filter(members__user_id=user_id, members__role__in=TEAM_ROLES)
        .order_by("-created_at")
        .distinct()
    )


def role_of(client: Client, user_id: UserId) -> str | None:
    """The person's role on the app's team, or None for anyone not on it (testers included)."""
    role = (
        ClientMember.objects.filter(client=client, user_id=user_id, role__in=TEAM_ROLES)
        .values_list("role", flat=True)
        .first()
    )
    return role


def members_of(client: Client) -> QuerySet[ClientMember]:
    return client.members.select_related("user").order_by("role", "user__username")


def owned_count(user_id: UserId) -> int:
    return ClientMember.objects.filter(user_id=user_id, role=Role.OWNER).count()


def person_find(identifier: str) -> Any:
    """The one person with this username or email address, compared case-insensitively."""
    identifier = identifier.strip()
    if not identifier or "\x00" in identifier:
        return None
    people = list(
        get_user_model().objects.filter(
            Q(username__iexact=identifier) | Q(email__iexact=identifier), is_active=True
        )[:2]
    )
    return people[0] if len(people) == 1 else None


def member_add(*, client: Client, identifier: str, role: str) -> ClientMember:
    """Add a person to the team or as a tester, by username or email address."""
    person = person_find(identifier)
    if person is None:
        raise TeamError(_("No one with that username or email address was found."))
    with transaction.atomic():
        Client.objects.select_for_update().filter(pk=client.pk).first()  # one change at a time
        if ClientMember.objects.filter(client=client, user_id=person.pk).exists():
            raise TeamError(_("That person is already on this app's list."))
        if role == Role.TESTER and testers_full(client):
            raise TeamError(
                _("An app may have at most %(count)d testers.")
                % {"count": settings.DEVELOPER_MAX_TESTERS}
            )
        return ClientMember.objects.create(client=client, user_id=person.pk, role=role)


def testers_full(client: Client) -> bool:
    testers = ClientMember.objects.filter(client=client, role=Role.TESTER).count()
    return testers >= settings.DEVELOPER_MAX_TESTERS


def member_remove(*, member: ClientMember, origin: Origin = NOWHERE) -> None:
    with transaction.atomic():
        _keep_an_owner(member)
        client_member_remove(member, origin=origin)


def member_role_set(*, member: ClientMember, role: str) -> None:
    with transaction.atomic():
        if role != Role.OWNER:
            _keep_an_owner(member)
        if role == Role.TESTER and member.role != Role.TESTER and testers_full(member.client):
            raise TeamError(
                _("An app may have at most %(count)d testers.")
                % {"count": settings.DEVELOPER_MAX_TESTERS}
            )
        member.role = role
        member.save(update_fields=["role"])


def _keep_an_owner(member: ClientMember) -> None:
    """An app always has an owner: the last one can neither leave nor step down."""
    if member.role != Role.OWNER:
        return
    Client.objects.select_for_update().filter(pk=member.client_id).first()
    owners = ClientMember.objects.filter(client_id=member.client_id, role=Role.OWNER).count()
    if owners <= 1:
        raise TeamError(_("An app always has an owner: name another owner first."))
