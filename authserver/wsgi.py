"""WSGI entry point (gunicorn authserver.wsgi): Django's handler, reading requests as UTF-8."""

from __future__ import annotations

import os

import django

from .handlers import WSGIHandler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "authserver.settings")
django.setup(set_prefix=False)  # as django.core.wsgi.get_wsgi_application does

application = WSGIHandler()
