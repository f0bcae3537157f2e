# A person's whole name gets a field of its own (0004 moves the names providers gave there).

from django.db import migrations, models


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
    ]
