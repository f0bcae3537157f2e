# Accounts are compared by a canonical form of their email (accounts/emails.py) instead of the
# database's lower(). Its column first, empty; 0006 fills it, 0007 moves the uniqueness to it.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0004_whole_names_from_providers"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="email_canonical",
            field=models.CharField(blank=True, editable=False, max_length=254, null=True),
        ),
    ]
