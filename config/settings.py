"""
Settings for the Django signals tutorial site.

One module, driven by ``DJANGO_*`` environment variables with safe development
defaults. With ``DJANGO_DEBUG`` off, ``DJANGO_SECRET_KEY`` is required.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.templatetags.static import static
from django.utils.functional import lazy

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", True)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off. "
            "Generate one with: python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

# Security. Production values whenever DEBUG is off; docs/deploying.md lists the
# environment, and `DJANGO_DEBUG=0 manage.py check --deploy --fail-level WARNING`
# passes with it. `make serve` turns the HTTPS-only parts off for plain-HTTP loopback.
#
# The header a TLS-terminating proxy sets, e.g. "X-Forwarded-Proto=https". Trusted
# only when configured: without a proxy that overwrites it, a client could send it.
_PROXY_SSL_HEADER = os.environ.get("DJANGO_SECURE_PROXY_SSL_HEADER", "")
if _PROXY_SSL_HEADER:
    _name, _, _value = _PROXY_SSL_HEADER.partition("=")
    SECURE_PROXY_SSL_HEADER = (
        "HTTP_" + _name.strip().upper().replace("-", "_"),
        _value.strip() or "https",
    )
# How many proxies append to X-Forwarded-For; 0 means REMOTE_ADDR is the client.
NUM_PROXIES = int(os.environ.get("DJANGO_NUM_PROXIES", "0"))
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]  # health checks, scrapes use HTTP
SECURE_HSTS_SECONDS = int(
    os.environ.get("DJANGO_SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000")  # a year
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_RESOURCE_POLICY = "same-origin"  # sent by SecurityHeadersMiddleware
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp): everything from this origin, nothing inline,
# no eval, no framing. Templates follow it: no <script> bodies, no style="".
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'none'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "manifest-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
    },
}
# Browser features no page uses (SecurityHeadersMiddleware sends it).
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer", "camera", "geolocation", "gyroscope",
        "magnetometer", "microphone", "payment", "usb",
    )
}  # fmt: skip

# Requests: longer URLs get 414 (gunicorn.conf.py refuses longer request lines).
REQUEST_MAX_URL_LENGTH = 2048  # characters of path + query string

# Admin login throttle (tutorials/ratelimit.py): failures per address, lock-out time.
LOGIN_FAILURE_LIMIT = int(os.environ.get("DJANGO_LOGIN_FAILURE_LIMIT", "5"))
LOGIN_FAILURE_WINDOW = int(os.environ.get("DJANGO_LOGIN_FAILURE_WINDOW", "900"))  # seconds

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django_bootstrap5",
    "csp",
    "tutorials",
]

# Order matters. SecurityMiddleware (nosniff, Referrer-Policy, COOP, HSTS) and
# whitenoise (static files) see every request. The page cache comes next: a hit
# skips everything below it (session, CSRF, auth, messages, and the CSP and header
# middleware, whose headers are stored with the page). Then the request limits
# refuse before anything reads the body, and the login throttle before a password
# is checked.
MIDDLEWARE = [
    # First, so it logs and measures everything below, page-cache hits included.
    "tutorials.requestlog.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "tutorials.scheduling.ScheduledPublishingMiddleware",  # before the page cache: see it
    "tutorials.middleware.PageCacheMiddleware",
    "csp.middleware.CSPMiddleware",
    "tutorials.middleware.SecurityHeadersMiddleware",
    "tutorials.middleware.RequestLimitsMiddleware",
    "tutorials.middleware.LoginRateLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tutorials.context_processors.course",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

# The embedded SQLite file is the default; DATABASE_URL=postgres://... scales out.
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DJANGO_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run during a write; IMMEDIATE takes the write lock at BEGIN so
    # concurrent writers queue on the busy timeout instead of failing "database is locked".
    DATABASES["default"]["CONN_MAX_AGE"] = 0 if DEBUG else DATABASES["default"]["CONN_MAX_AGE"]
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,  # seconds
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "tutorials.staticstorage.StaticFilesStorage"},
}

# Caching: a local in-process cache by default; CACHE_URL=redis://... shares it
# between several gunicorn hosts.
CACHE_URL = os.environ.get("CACHE_URL", "")
if CACHE_URL.startswith(("redis://", "rediss://")):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "tutorials"),
        }
    }
elif DEBUG:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "tutorials",
        }
    }
else:
    # gunicorn runs several processes and sync_content another: the content version
    # and the login throttle must be seen by all of them, which a per-process
    # memory cache is not.
    CACHES = {
        "default": {
            "BACKEND": "tutorials.filecache.FileCache",
            "LOCATION": os.environ.get("DJANGO_CACHE_DIR", str(BASE_DIR / "var" / "cache")),
            "OPTIONS": {"MAX_ENTRIES": 10_000},
        }
    }
# Rendered pages (tutorials/pagecache.py) stay in each process: a hit copies nothing
# over the network. The content version in "default" invalidates them everywhere.
CACHES["pages"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "pages",
    "OPTIONS": {"MAX_ENTRIES": 2_000},
}
PAGE_CACHE_SECONDS = int(os.environ.get("DJANGO_PAGE_CACHE_SECONDS", "3600"))  # 0 turns it off

# django-bootstrap5 renders Bootstrap's tags ({% bootstrap_css %}, {% bootstrap_javascript %})
# from these URLs: our own trimmed build in static/, never a CDN. Lazy, so the hashed
# name comes from the staticfiles manifest when a page is rendered.
_static = lazy(static, str)
BOOTSTRAP5 = {
    "css_url": {"url": _static("vendor/bootstrap/bootstrap.site.min.css")},
    "javascript_url": {
        "url": _static("vendor/bootstrap/bootstrap.offcanvas.min.js"),
        "defer": True,
    },
}

# The code runner (tutorials/runner/limits.py holds every default and its unit):
# each RUNNER_<NAME> environment variable sets the setting of the same name,
# e.g. RUNNER_MAX_CONCURRENCY=4. docs/deploying.md lists them all.
from tutorials.runner.limits import from_environment as _runner_settings  # noqa: E402

globals().update(_runner_settings(os.environ))

# Where lessons live on disk; sync_content reads it.
CONTENT_DIR = Path(os.environ.get("DJANGO_CONTENT_DIR", BASE_DIR / "content"))
# "Edit this page" on lessons: a URL with {path} (the file, relative to CONTENT_DIR), e.g.
# https://github.com/you/site/edit/main/content/{path}. Empty hides the link.
CONTENT_EDIT_URL = os.environ.get("DJANGO_CONTENT_EDIT_URL", "")

# Refuse oversized requests early (bytes).
DATA_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024

# Logs: one line per event, with a timestamp, level, logger and request id
# (tutorials/logformat.py); DJANGO_LOG_FORMAT=json for one JSON object per line.
LOG_FORMAT = os.environ.get("DJANGO_LOG_FORMAT", "text").strip().lower()
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured(f"DJANGO_LOG_FORMAT must be text or json, not {LOG_FORMAT!r}.")
# The same exception (Redis unreachable…) is logged once per this many seconds.
LOG_REPEAT_SECONDS = float(os.environ.get("DJANGO_LOG_REPEAT_SECONDS", "10"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"line": {"()": "tutorials.logformat.Formatter", "json": LOG_FORMAT == "json"}},
    # A refused request (bad Host, oversized body) is one log line, not a traceback.
    "filters": {
        "one_line_security": {"()": "tutorials.logfilters.SecurityWithoutTraceback"},
        "repeated_exceptions": {
            "()": "tutorials.logfilters.RepeatedExceptions",
            "window": LOG_REPEAT_SECONDS,
        },
        "request_context": {"()": "tutorials.logformat.RequestContextFilter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "line",
            "filters": ["one_line_security", "repeated_exceptions", "request_context"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's default config gives "django" a console handler of its own (with
        # DEBUG on); this one replaces it, so each line is printed once, not twice.
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.security.DisallowedHost": {"level": "ERROR"},
        # runserver's own access line; RequestLogMiddleware writes a better one.
        "django.server": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}

# Metrics (tutorials/metrics.py) at /metrics: only for direct connections from
# these networks (never through the balancer), or with this bearer token.
METRICS_ALLOWED_NETWORKS = env_list("DJANGO_METRICS_ALLOWED_NETWORKS", "127.0.0.0/8,::1/128")
METRICS_TOKEN = os.environ.get("DJANGO_METRICS_TOKEN", "")

# The shared HTTP cache in front of the origin (tutorials/proxycache.py holds the
# defaults, deploy/nginx/cache.conf the proxy): DJANGO_PROXY_CACHE_SECONDS (s-maxage),
# _STALE_SECONDS, _URL (where the proxy listens; empty: no refresh on publish), _HOST
# and _SECRET (the X-Cache-Refresh value nginx accepts).
PROXY_CACHE = {
    name: os.environ[f"DJANGO_PROXY_CACHE_{name}"]
    for name in ("SECONDS", "STALE_SECONDS", "URL", "HOST", "SECRET")
    if f"DJANGO_PROXY_CACHE_{name}" in os.environ
}
