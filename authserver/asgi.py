"""ASGI entry point: Django's handler, reading requests as UTF-8."""

from __future__ import annotations

import os

import django

from .handlers import ASGIHandler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "authserver.settings")
django.setup(set_prefix=False)  # as django.core.asgi.get_asgi_application does

application = ASGIHandler()
