"""Settings for the test suite: the real settings with test-only speed-ups.

DATABASE_URL still decides the database, so the same suite runs on SQLite
and on PostgreSQL.
"""

import os

os.environ.setdefault("KECHUANG_DEBUG", "0")
os.environ.setdefault(
    "KECHUANG_SECRET_KEY", "test-only-secret-key-not-used-anywhere-else-0123456789"
)
os.environ.setdefault("KECHUANG_HTTPS", "0")

from kechuang.settings import *  # noqa: F403

# Hashing cost is a production concern; the validators still run.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
# Serve static files straight from the apps (no collectstatic needed for page tests).
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
