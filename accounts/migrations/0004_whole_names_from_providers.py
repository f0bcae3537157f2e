# Accounts made through a provider kept the provider's whole name ("Jane Doe", "홍길동") in
# first_name, which id_tokens then gave out as given_name. It moves to `name`; the given and
# family names are taken from the provider's profile where it tells them apart (Google), else
# left empty. An account made through a provider is one with no usable password and a linked
# identity (an operator could have edited its first_name since; it is moved all the same).
#
# In batches, each in a transaction of its own (the migration is not atomic), so that no lock on
# the accounts table is held for the whole run on a large table.

from django.db import migrations, transaction
from django.db.models.functions import Substr

BATCH = 1000


def whole_names_apart(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    SocialIdentity = apps.get_model("accounts", "SocialIdentity")
    db = schema_editor.connection.alias
    made_by_providers = (
        User.objects.using(db)
        .filter(password__startswith="!", name="", last_name="", identities__isnull=False)
        .exclude(first_name="")
        .distinct()
        .order_by("pk")
    )
    after = None
    while True:
        batch = made_by_providers if after is None else made_by_providers.filter(pk__gt=after)
        users = list(batch[:BATCH])
        if not users:
            return
        after = users[-1].pk
        said = _names_said(SocialIdentity.objects.using(db).filter(user__in=users))
        for user in users:
            given, family = said.get(user.pk, ("", ""))
            user.name, user.first_name, user.last_name = user.first_name, given, family
        with transaction.atomic(using=db):
            User.objects.using(db).bulk_update(users, ["name", "first_name", "last_name"])


def _names_said(identities):
    """The given and family names a provider's stored profile tells apart, by person."""
    said = {}
    for identity in identities.order_by("first_login_at"):
        raw = identity.raw_profile if isinstance(identity.raw_profile, dict) else {}
        claims = {**_dict(raw.get("userinfo")), **_dict(raw.get("id_token"))}
        names = (_text(claims.get("given_name")), _text(claims.get("family_name")))
        if any(names):
            said.setdefault(identity.user_id, names)
    return said


def whole_names_back(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    db = schema_editor.connection.alias
    User.objects.using(db).filter(password__startswith="!").exclude(name="").update(
        first_name=Substr("name", 1, 150), last_name=""
    )


def _dict(value):
    return value if isinstance(value, dict) else {}


def _text(value):
    return value[:150] if isinstance(value, str) else ""


class Migration(migrations.Migration):

    atomic = False

    dependencies = [
        ("accounts", "0003_whole_names"),
    ]

    operations = [
        migrations.RunPython(whole_names_apart, whole_names_back, elidable=True),
    ]
