"""`make bench BENCH_SEED=…` loads its rows with COPY, which names every column: a column added
to a seeded table without a database default must be added to the seeding too, or the seeded
benchmark stops. A few rows, on the test database, check that it still loads what it says."""

from __future__ import annotations

import pytest

from accounts.models import User
from bench.seed import seed
from events.models import SecurityEvent
from oauth.models import Consent, Grant, RefreshToken
from oauth.services import tokens_clear
from tests.conftest import RegisteredClient
from tests.test_instances import database_url


@pytest.mark.django_db(transaction=True)
def test_the_seeding_fills_every_table_it_names_and_half_of_it_expires(
    confidential_client: RegisteredClient,
) -> None:
    seed(database_url(), 10, client_pk=confidential_client.model.pk)

    seeded = User.objects.filter(username__startswith="seed")
    assert seeded.count() == 10
    assert Consent.objects.filter(user__in=seeded).count() == 10
    assert Grant.objects.filter(user__in=seeded).count() == 10
    assert RefreshToken.objects.filter(grant__user__in=seeded).count() == 10
    assert SecurityEvent.objects.filter(user__in=seeded).count() == 10

    tokens_clear()
    assert RefreshToken.objects.filter(grant__user__in=seeded).count() == 5
