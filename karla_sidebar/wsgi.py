"""WSGI entry point, used by gunicorn: ``gunicorn karla_sidebar.wsgi``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "karla_sidebar.settings")

application = get_wsgi_application()
