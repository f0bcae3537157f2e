# The SecurityEvent model moves here from the oauth app. Its table (oauth_securityevent), rows
# and index stay where they are: only Django's idea of which app owns them changes, and so do
# the content type and permissions that name it, so operators keep their "view security event"
# rights and the admin's history keeps pointing at the right model.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def move_content_type(apps, schema_editor, *, old="oauth", new="events"):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    moving = ContentType.objects.using(db).filter(app_label=old, model="securityevent")
    if not ContentType.objects.using(db).filter(app_label=new, model="securityevent").exists():
        moving.update(app_label=new)


def move_content_type_back(apps, schema_editor):
    move_content_type(apps, schema_editor, old="events", new="oauth")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("oauth", "0005_hash_indexes"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="SecurityEvent",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("created_at", models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                        ("kind", models.CharField(choices=[("sign_in", "Signed in"), ("sign_in_failed", "Sign-in failed"), ("tokens_issued", "Tokens issued"), ("tokens_refreshed", "Tokens refreshed"), ("refresh_token_reused", "Refresh token reused"), ("code_replayed", "Authorization code replayed"), ("client_created", "Client created"), ("client_secret_rotated", "Client secret rotated"), ("client_disabled", "Client disabled"), ("client_enabled", "Client enabled"), ("grants_revoked", "Grants revoked"), ("consent_granted", "Consent granted"), ("consent_revoked", "Consent revoked"), ("key_rotated", "Signing key rotated"), ("identity_linked", "Provider account linked"), ("identity_unlinked", "Provider account unlinked"), ("rate_limited", "Rate limit reached")], max_length=32)),
                        ("ip_address", models.GenericIPAddressField(blank=True, null=True)),
                        ("user_agent", models.CharField(blank=True, max_length=300)),
                        ("detail", models.JSONField(blank=True, default=dict)),
                        ("client", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, to="oauth.client")),
                        ("user", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        "db_table": "oauth_securityevent",
                        "ordering": ["-created_at"],
                        "indexes": [models.Index(fields=["kind", "-created_at"], name="event_kind_recent")],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_type, move_content_type_back, elidable=False),
    ]
