# The canonical form of every account's email (accounts/emails.py), which is computed in Python,
# so it is filled here rather than by SQL. In batches, each in a transaction of its own (the
# migration is not atomic), so that no lock on the accounts table is held for the whole run.
# It uses the one function rather than a copy, so that the rows hold exactly the form the code
# compares; filling again is harmless.
#
# lower() kept two accounts apart that the canonical form may join: one domain written in
# Unicode and as an A-label (jane@bücher.example, jane@xn--bcher-kva.example). Which of them
# owns the address is for an operator to decide, so the migration then stops, naming the
# accounts, before the unique constraint is added (0007): give all but one of them another email
# (or none) and migrate again. (Keeping one and leaving the others without a canonical form
# would leave those others unsavable: save() fills it again, and the constraint refuses it.)
# An email with no canonical form (a domain that is not valid IDNA 2008, quotes, white space)
# is left without one, and logged: such an account is no longer found by its email.

import logging

from django.db import migrations, transaction
from django.db.models import Count

from accounts.emails import email_canonical

BATCH = 1000
SHOWN = 20  # accounts named in the log or the error, at most

log = logging.getLogger("accounts.migrations")


def canonical_emails_fill(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    db = schema_editor.connection.alias
    # Every account, those without an email too: a run stopped by shared addresses leaves the
    # canonical forms it filled, and the email an operator then clears must lose its form.
    everyone = User.objects.using(db).only("pk", "username", "email", "email_canonical")
    everyone = everyone.order_by("pk")
    uncomparable, uncomparable_count = [], 0
    after = None
    while True:
        with transaction.atomic(using=db):
            # Read under lock: an email changed meanwhile must not get the old one's form.
            batch = everyone if after is None else everyone.filter(pk__gt=after)
            users = list(batch.select_for_update()[:BATCH])
            if not users:
                break
            after = users[-1].pk
            changed = []
            for user in users:
                canonical = email_canonical(user.email)
                if user.email and canonical is None:
                    uncomparable_count += 1
                    if len(uncomparable) < SHOWN:
                        uncomparable.append(user.username)
                if canonical != user.email_canonical:
                    user.email_canonical = canonical
                    changed.append(user)
            User.objects.using(db).bulk_update(changed, ["email_canonical"])
    if uncomparable_count:
        more = uncomparable_count - len(uncomparable)
        log.warning(
            "%d accounts have an email that cannot be compared with others, and are no longer "
            "found by it: %s%s",
            uncomparable_count,
            ", ".join(uncomparable),
            f" and {more} more" if more else "",
        )
    _refuse_shared(User.objects.using(db))


def _refuse_shared(users):
    """Stop, naming the accounts that would share an address."""
    shared = list(
        users.exclude(email_canonical=None)
        .values("email_canonical")
        .annotate(holders=Count("pk"))
        .filter(holders__gt=1)
        .values_list("email_canonical", flat=True)[: SHOWN + 1]
    )
    if not shared:
        return
    groups = {}
    for user in users.filter(email_canonical__in=shared).order_by("date_joined", "pk"):
        verified = " (email verified)" if user.email_verified else ""
        groups.setdefault(user.email_canonical, []).append(f"{user.username}{verified}")
    lines = [f"  {', '.join(names)}" for names in list(groups.values())[:SHOWN]]
    if len(shared) > SHOWN:
        lines.append("  and more")
    raise RuntimeError(
        "These accounts hold one and the same email address, written differently (such as a "
        "domain in Unicode and as xn--); the accounts of each line would share it:\n"
        + "\n".join(lines)
        + "\nGive all but one account of each line another email, or none, and migrate again."
    )


class Migration(migrations.Migration):

    atomic = False

    dependencies = [
        ("accounts", "0005_email_canonical"),
    ]

    operations = [
        migrations.RunPython(canonical_emails_fill, migrations.RunPython.noop, elidable=True),
    ]
