"""Settings for the test suite: production-like (DEBUG off), never the developer's .env.local.

``DATABASE_URL`` passes through, so the same suite runs on PostgreSQL.
"""

import os

os.environ["KARLA_ENV_FILE"] = ""
os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-not-for-production-use-0123456789")
os.environ.setdefault("FIELD_ENCRYPTION_KEY", "uZ3Jx7m5J4Bq1zQJZb8vT9N4t0nq1d3y2QxY6o8sM1E=")
os.environ.setdefault("SANDBOX_ENABLED", "1")
os.environ.setdefault("DEBUG", "0")
# The test client and live servers speak plain HTTP (production sits behind TLS).
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")

from karla_sidebar.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Serve static files straight from the app folders (no collectstatic before tests).
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
# Tests ask GoKarla (the sandbox) as often as they need to: the sidebar's budget and the
# Refresh reuse window are tested where they are the subject (tests/test_security.py).
SIDEBAR_GOKARLA_CALLS_PER_AGENT = 1_000_000
SIDEBAR_GOKARLA_CALLS_PER_WORKSPACE = 1_000_000
LOOKUP_REFRESH_REUSE_SECONDS = 0
