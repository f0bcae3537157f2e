# SecurityEvent now belongs to the events app (events/migrations/0001_initial.py), which keeps
# its table: here it only leaves the oauth app's state.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("oauth", "0005_hash_indexes"),
        ("events", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="SecurityEvent")],
            database_operations=[],
        ),
    ]
