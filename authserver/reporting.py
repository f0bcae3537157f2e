"""What error pages (DEBUG) and error reports may show of the settings."""

from __future__ import annotations

import re

from django.views.debug import SafeExceptionReporterFilter


class SettingsFilter(SafeExceptionReporterFilter):
    """Django's, which hides settings named like secrets, also hiding URLs: DATABASE_URL and
    REDIS_URL may carry passwords, and so may the cache's LOCATION (REDIS_URL again)."""

    hidden_settings = re.compile(
        SafeExceptionReporterFilter.hidden_settings.pattern + "|URL|LOCATION", flags=re.IGNORECASE
    )
