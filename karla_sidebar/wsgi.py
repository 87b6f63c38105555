"""WSGI entry point, used by gunicorn: ``gunicorn -c gunicorn.conf.py karla_sidebar.wsgi``."""

import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "karla_sidebar.settings")

application = get_wsgi_application()
# Import every view now (in gunicorn's master, with preload_app), not on each worker's first
# request: that first agent would otherwise wait a few hundred milliseconds.
get_resolver().url_patterns  # noqa: B018
