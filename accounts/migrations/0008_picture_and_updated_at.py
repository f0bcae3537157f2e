# What the profile scope can say of a person besides names (OIDC Core §5.1): a picture from the
# provider they sign in with, and when their information last changed.

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0007_email_canonical_unique"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="picture",
            field=models.URLField(blank=True, help_text="From the provider last signed in with.", max_length=1000, verbose_name="picture"),
        ),
        migrations.AddField(
            model_name="user",
            name="updated_at",
            field=models.DateTimeField(auto_now=True, default=django.utils.timezone.now, verbose_name="updated"),
            preserve_default=False,
        ),
    ]
