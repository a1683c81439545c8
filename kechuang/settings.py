"""Django settings for Kechuang, read from environment variables.

Every setting that differs between a laptop and a production server comes from
the environment, with a default that is safe (closed) rather than convenient:

    DATABASE_URL            default: SQLite file var/kechuang.sqlite3 under the project
    KECHUANG_SECRET_KEY     required unless KECHUANG_DEBUG=1
    KECHUANG_DEBUG          "1" for development only (default "0")
    KECHUANG_ALLOWED_HOSTS  comma-separated (default "127.0.0.1,localhost")
    KECHUANG_HTTPS          "1" (default when not debugging): secure cookies, HSTS,
                            redirect to https; set "0" only behind no TLS at all
    KECHUANG_PROXY_SSL      "1" when a reverse proxy terminates TLS and sets
                            X-Forwarded-Proto
    KECHUANG_TRUSTED_PROXY_COUNT  reverse proxies in front that append X-Forwarded-For
    KECHUANG_CSRF_TRUSTED_ORIGINS  comma-separated origins (https://kj.example.gov.cn)
    KECHUANG_LOG_LEVEL      default "INFO"
    KECHUANG_SITE_URL       the address users reach (printed in QR codes)
    KECHUANG_MEDIA_ROOT     uploaded files (default var/media)
    KECHUANG_LOGIN_MAX_FAILURES / KECHUANG_LOGIN_LOCKOUT_SECONDS   login throttling

See .env.example. There is no module-level mutable state here or elsewhere: a
deployment runs several processes behind a load balancer.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured


def env_flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("KECHUANG_VAR_DIR", BASE_DIR / "var"))

DEBUG = env_flag("KECHUANG_DEBUG", False)

SECRET_KEY = os.environ.get("KECHUANG_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "KECHUANG_SECRET_KEY must be set when KECHUANG_DEBUG is not 1 (see .env.example)."
        )
    # Development only: a fixed key keeps sessions across restarts of `make run`.
    SECRET_KEY = "django-insecure-kechuang-development-only-never-in-production-0123456789"

ALLOWED_HOSTS = env_list("KECHUANG_ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("KECHUANG_CSRF_TRUSTED_ORIGINS", "")
# The address people reach the platform at: printed in QR codes on paper copies.
SITE_URL = os.environ.get("KECHUANG_SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    # First, so its createsuperuser/changepassword (which point to the audited
    # `kechuang user`) replace django.contrib.auth's own.
    "kechuang.accounts",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "kechuang.core",
    "kechuang.audit",
    "kechuang.regions",
    "kechuang.indicators",
    "kechuang.evaluation",
    "kechuang.plans",
    "kechuang.api",
    "kechuang.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "kechuang.core.middleware.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "kechuang.core.middleware.RequestIdMiddleware",
    "kechuang.core.middleware.DomainErrorMiddleware",
]

ROOT_URLCONF = "kechuang.urls"
WSGI_APPLICATION = "kechuang.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kechuang.core.context_processors.site",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'kechuang.sqlite3'}",
        conn_max_age=int(os.environ.get("KECHUANG_DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers proceed while a writer holds the database (several gunicorn workers).
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # 等级保护 practice: at least three of upper case, lower case, digits, symbols.
    {"NAME": "kechuang.accounts.passwords.CharacterClassValidator", "OPTIONS": {"min_classes": 3}},
]

LOGIN_MAX_FAILURES = int(os.environ.get("KECHUANG_LOGIN_MAX_FAILURES", "5"))
LOGIN_FAILURE_WINDOW_SECONDS = int(os.environ.get("KECHUANG_LOGIN_FAILURE_WINDOW_SECONDS", "900"))
LOGIN_LOCKOUT_SECONDS = int(os.environ.get("KECHUANG_LOGIN_LOCKOUT_SECONDS", "300"))

# ---------------------------------------------------------------- i18n
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "kechuang" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# ---------------------------------------------------------------- static files
MEDIA_URL = "media/"
# Uploaded files (scans of stamped paper copies). Production points this at
# shared storage so that every app server sees the same files.
MEDIA_ROOT = Path(os.environ.get("KECHUANG_MEDIA_ROOT", VAR_DIR / "media"))
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 25 * 1024 * 1024

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
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

# ---------------------------------------------------------------- security
HTTPS = env_flag("KECHUANG_HTTPS", not DEBUG)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = 31_536_000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
# The flag only permits submission to the browsers' preload list; nothing is submitted.
SECURE_HSTS_PRELOAD = env_flag("KECHUANG_HSTS_PRELOAD", HTTPS)
# How many reverse proxies of ours stand in front (each appends to X-Forwarded-For);
# 0 trusts REMOTE_ADDR only. Used to throttle logins per real client address.
TRUSTED_PROXY_COUNT = int(os.environ.get("KECHUANG_TRUSTED_PROXY_COUNT", "0"))
if env_flag("KECHUANG_PROXY_SSL", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 8 * 3600  # one working day
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# ---------------------------------------------------------------- API
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "kechuang.core.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "科创 Kechuang API",
    "DESCRIPTION": "县域创新驱动发展管理平台接口。每个接口只返回调用者所在组织单位及其下级的数据。",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# ---------------------------------------------------------------- logging
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("KECHUANG_LOG_LEVEL", "INFO")},
    # WeasyPrint narrates every layout step at INFO.
    "loggers": {name: {"level": "WARNING"} for name in ("weasyprint", "fontTools")},
}
