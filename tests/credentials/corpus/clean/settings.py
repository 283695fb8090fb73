import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
DEBUG = os.environ.get("DEBUG") == "1"
ALLOWED_HOSTS = ["app.acme.example"]

SESSION_COOKIE_NAME = "acme_sessionid"
CSRF_COOKIE_NAME = "acme_csrftoken"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

BLUUM = {
    "BASE_URL": os.environ.get("BLUUM_BASE_URL", "https://sandbox.api.bluumfinance.com/v1"),
    "API_KEY": os.environ.get("BLUUM_API_KEY"),
    "API_SECRET": os.environ.get("BLUUM_API_SECRET"),
    "SECRET_SOURCE": "aws",
    "SECRET_ID": "acme/bluum-sandbox",
}

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "acme",
        "USER": os.environ.get("DB_USER", "acme"),
        "PASSWORD": os.environ.get("DB_PASSWORD"),
        "HOST": "localhost",
    }
}
