"""Karla Sidebar settings, configured from the environment.

Safe local defaults: SQLite and the local-memory cache. ``DATABASE_URL`` and ``REDIS_URL``
switch to PostgreSQL and Redis. ``make run`` writes local development values (DEBUG on,
sandbox enabled, generated keys) once into ``.env.local``, which is read here, so that
``manage.py`` commands in a checkout behave like the running demo. Real environment
variables always win over the file.

Every variable is documented in README.md ("Configuration").
"""

import ipaddress
import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from dotenv import load_dotenv

BASE_DIR = Path(__file__).resolve().parent.parent

_env_file = os.environ.get("KARLA_ENV_FILE", str(BASE_DIR / ".env.local"))
if _env_file:
    load_dotenv(_env_file, override=False)


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool = False) -> bool:
    raw = env_str(name)
    if not raw:
        return default
    lowered = raw.lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false (1/0, yes/no, on/off), not {raw!r}.")


def env_number(name: str, default: float, *, minimum: float = 0) -> float:
    raw = env_str(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {raw!r}.") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {raw!r}.")
    return value


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


def env_origin(name: str, *, https: bool) -> str:
    """An address of the form scheme://host[:port] (a trailing slash is dropped), or "";
    https only when ``https``."""
    raw = env_str(name).rstrip("/")
    if not raw:
        return ""
    try:
        parts = urlsplit(raw)
        parts.port  # noqa: B018 (raises ValueError for a port that is not a number)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ImproperlyConfigured(
            f"{name} must be an address such as https://karla.example.com, not {raw!r}."
        )
    if parts.path or parts.query or parts.fragment or parts.username or parts.password:
        raise ImproperlyConfigured(
            f"{name} must be only the scheme and host (and port), without a path, query or "
            f"user, not {raw!r}."
        )
    if https and parts.scheme != "https":
        raise ImproperlyConfigured(
            f"{name} must start with https:// when DEBUG is off (production), not {raw!r}."
        )
    return raw


def env_required(name: str, *, dev_default: str) -> str:
    """A secret that production must set; development falls back to a fixed local value."""
    value = env_str(name)
    if value:
        return value
    if DEBUG:
        return dev_default
    raise ImproperlyConfigured(
        f"{name} is not set. It is required when DEBUG is off (production). "
        "Set it in the environment; README.md ('Configuration') says how to generate one."
    )


DEBUG = env_bool("DEBUG")

SECRET_KEY = env_required("SECRET_KEY", dev_default="django-insecure-local-development-only")
# Previous keys, still accepted for signatures while a new SECRET_KEY rolls out.
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS")
# A list, newest key first: rows are decrypted with any key and written with the first.
FIELD_ENCRYPTION_KEY = env_list(
    "FIELD_ENCRYPTION_KEY",
    env_required(
        "FIELD_ENCRYPTION_KEY", dev_default="uy2uUcVrSiuoiuJcb2Auo5CPRsL0iflZ7ePPC9lB_hk="
    ),
)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",
    "django.forms",  # its widget templates, for FORM_RENDERER's use of TEMPLATES
    # PostgreSQL's index types and operator classes (the history's trigram indexes); nothing
    # of it runs on SQLite.
    "django.contrib.postgres",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "encrypted_model_fields",
    "karla_sidebar",
    "accounts",
    "sandbox",
]

MIDDLEWARE = [
    "karla_sidebar.observability.HealthMiddleware",
    "karla_sidebar.observability.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Admin and history pages: the language menu's choice (a cookie), else the browser's. The
    # sidebar chooses its own language at launch (karla_sidebar.languages).
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.timezones.ViewerTimezoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Another workspace's object (or a missing one) asked for: 404 (karla_sidebar.http_errors).
    "karla_sidebar.http_errors.NotInWorkspaceMiddleware",
]

ROOT_URLCONF = "karla_sidebar.urls"
WSGI_APPLICATION = "karla_sidebar.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Every form field is drawn by templates/form-field.html (karla_sidebar/form_rendering.py).
FORM_RENDERER = "karla_sidebar.form_rendering.FormRenderer"

DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("SQLITE_PATH") or BASE_DIR / "db.sqlite3",
            # Several threads write history rows at once: take the write lock at the start of
            # a transaction (no upgrade deadlocks), wait for it rather than fail, and let
            # readers go on while one writes (WAL).
            "OPTIONS": {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
            "CONN_MAX_AGE": 600,
            "CONN_HEALTH_CHECKS": True,
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The history's time index carries columns for PostgreSQL's index-only scans
# (docs/performance-history.md); SQLite ignores them, which is all this check says.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # Several deployments (or test runs) may share one Redis, each with its own prefix.
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "karla"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "/login/"
# Failed logins allowed per 15 minutes, per username and per client address.
LOGIN_FAILURES_PER_USER = int(env_number("LOGIN_FAILURES_PER_USER", 5, minimum=1))
LOGIN_FAILURES_PER_ADDRESS = int(env_number("LOGIN_FAILURES_PER_ADDRESS", 20, minimum=1))
# The load balancers and proxies in front of the app (addresses or networks): only from them is
# X-Forwarded-For believed, so login throttling counts per client, not per load balancer.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES")
for _network in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"TRUSTED_PROXIES: {_network!r} is not an IP address or network (e.g. 10.0.0.0/8)."
        ) from None
LOGIN_REDIRECT_URL = "/settings/integrations/gokarla/accounts/"
LOGOUT_REDIRECT_URL = "/login/"

LANGUAGE_CODE = "en"
# The languages of the sidebar and the settings pages. Catalogs: locale/<lang>/LC_MESSAGES/,
# compiled by `make compilemessages` (README, "Languages").
LANGUAGES = [("en", "English"), ("de", "Deutsch")]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "karla_language"
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# HTTPS. Production sits behind a TLS-terminating load balancer that sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
# Load balancers probe these over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz/?$", r"^readyz/?$"]
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_HSTS_SECONDS = int(env_number("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)

# GoKarla: which hosts an admin may connect, and how long one operation may take.
GOKARLA_ALLOWED_HOSTS = env_list("GOKARLA_ALLOWED_HOSTS", "*.gokarla.io")
GOKARLA_DEADLINE_SECONDS = env_number("GOKARLA_DEADLINE_SECONDS", 10.0, minimum=1)
GOKARLA_CONNECT_TIMEOUT_SECONDS = env_number("GOKARLA_CONNECT_TIMEOUT_SECONDS", 3.05, minimum=0.1)

# Lookups: how long a result is reused before GoKarla is asked again.
LOOKUP_CACHE_SECONDS = env_number("LOOKUP_CACHE_SECONDS", 60)
# A sidebar Refresh within this many seconds of the answer it shows reuses that answer.
LOOKUP_REFRESH_REUSE_SECONDS = env_number("LOOKUP_REFRESH_REUSE_SECONDS", 5)
# GoKarla calls the sidebar may make per minute, per agent and per workspace (answers from the
# cache do not count): one token holder cannot spend a tenant's GoKarla credentials at will.
SIDEBAR_GOKARLA_CALLS_PER_AGENT = int(env_number("SIDEBAR_GOKARLA_CALLS_PER_AGENT", 30, minimum=1))
SIDEBAR_GOKARLA_CALLS_PER_WORKSPACE = int(
    env_number("SIDEBAR_GOKARLA_CALLS_PER_WORKSPACE", 600, minimum=1)
)
# When GoKarla fails, a result up to this old is shown (marked as such) instead of an error.
LOOKUP_STALE_SECONDS = env_number("LOOKUP_STALE_SECONDS", 3600)
# Lookup history: how many days of it `manage.py purge_history` keeps.
HISTORY_RETENTION_DAYS = int(env_number("HISTORY_RETENTION_DAYS", 90, minimum=1))

# Circuit breaker per GoKarla account: this many failures in a row pause calls for a while.
BREAKER_FAILURES = int(env_number("BREAKER_FAILURES", 5, minimum=1))
BREAKER_COOLDOWN_SECONDS = env_number("BREAKER_COOLDOWN_SECONDS", 3, minimum=1)

# The workflow API: calls per minute per API key.
API_RATE_LIMIT = int(env_number("API_RATE_LIMIT", 60, minimum=1))
# The rate limit's window: API_RATE_LIMIT calls per this many seconds.
API_RATE_LIMIT_WINDOW_SECONDS = int(env_number("API_RATE_LIMIT_WINDOW_SECONDS", 60, minimum=1))

# The sidebar: which ArminCX origins may frame it, and how long a rotated secret stays valid.
SIDEBAR_FRAME_ANCESTORS = env_list("SIDEBAR_FRAME_ANCESTORS")
SIDEBAR_SECRET_GRACE_HOURS = env_number("SIDEBAR_SECRET_GRACE_HOURS", 24)
# How long a sidebar token lives without the agent doing anything; each answer renews it.
SIDEBAR_TOKEN_SECONDS = int(env_number("SIDEBAR_TOKEN_SECONDS", 900, minimum=60))
# However active the agent, a sidebar session ends this long after its launch (ArminCX then
# sends a fresh launch token; see "Host messages").
SIDEBAR_SESSION_HOURS = env_number("SIDEBAR_SESSION_HOURS", 12, minimum=0.1)

# Nothing may be framed or run inline script; only the sidebar's views relax framing
# (karla_sidebar.security.sidebar_frameable).
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}

# The stand-in GoKarla API. Its origin is an allowed GoKarla URL only while enabled.
SANDBOX_ENABLED = env_bool("SANDBOX_ENABLED")
SANDBOX_URL = env_str("SANDBOX_URL", "http://127.0.0.1:8001").rstrip("/")

# The app's address as GoKarla reaches it. When set, each connected account registers a
# webhook at GoKarla delivering to {PUBLIC_BASE_URL}/webhooks/gokarla/<account webhook id>/;
# empty, no webhooks (lookups and sync_gokarla keep the shipment index).
PUBLIC_BASE_URL = env_origin("PUBLIC_BASE_URL", https=not DEBUG)

LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
# JSON lines in production (for log collectors), readable lines in development.
LOG_FORMAT = env_str("LOG_FORMAT", "plain" if DEBUG else "json")
if LOG_FORMAT not in {"plain", "json"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be plain or json, not {LOG_FORMAT!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "karla_sidebar.observability.JsonFormatter"},
    },
    "filters": {
        "redact_tokens": {"()": "karla_sidebar.logging.RedactLaunchTokens"},
        "request_id": {"()": "karla_sidebar.observability.RequestIdFilter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["redact_tokens", "request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "django.server": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "gunicorn.access": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        # urllib3 logs whole URLs at DEBUG, and a query value may be a customer's e-mail.
        "urllib3": {"level": "INFO"},
    },
}
