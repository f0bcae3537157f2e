# An email names one account by its canonical form (filled by 0006), no longer by lower(email).
# Going back fails if accounts were made since that lower() takes for one (nick@ and nic\u212a@):
# they are two addresses now.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0006_email_canonical_fill"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="user",
            constraint=models.UniqueConstraint(
                fields=("email_canonical",), name="user_email_canonical_unique"
            ),
        ),
        migrations.RemoveConstraint(
            model_name="user",
            name="user_email_unique_ci",
        ),
    ]
