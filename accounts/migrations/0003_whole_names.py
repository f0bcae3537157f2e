# A person's whole name gets a field of its own. Accounts made through a provider used to keep
# the provider's whole name ("Jane Doe", "홍길동") in first_name, which id_tokens then gave out
# as given_name: it moves to `name`, and the given and family names are taken from the
# provider's profile where it tells them apart (Google), else left empty.

from django.db import migrations, models


def whole_names_apart(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    SocialIdentity = apps.get_model("accounts", "SocialIdentity")
    made_by_providers = (
        User.objects.filter(password__startswith="!", name="", last_name="")
        .exclude(first_name="")
        .iterator()
    )
    for user in made_by_providers:
        for identity in SocialIdentity.objects.filter(user=user).order_by("first_login_at"):
            if identity.name[:150] != user.first_name:
                continue
            raw = identity.raw_profile if isinstance(identity.raw_profile, dict) else {}
            said = {**_dict(raw.get("userinfo")), **_dict(raw.get("id_token"))}
            user.name = identity.name
            user.first_name = _text(said.get("given_name"))
            user.last_name = _text(said.get("family_name"))
            user.save(update_fields=["name", "first_name", "last_name"])
            break


def _dict(value):
    return value if isinstance(value, dict) else {}


def _text(value):
    return value[:150] if isinstance(value, str) else ""


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0002_social_identities"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="name",
            field=models.CharField(blank=True, help_text="The whole name, as it is written.", max_length=255, verbose_name="name"),
        ),
        migrations.RunPython(whole_names_apart, migrations.RunPython.noop),
    ]
