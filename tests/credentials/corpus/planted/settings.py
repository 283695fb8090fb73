import os

BLUUM_API_KEY = os.environ.get("BLUUM_API_KEY", "%%bluum_key%%")
BLUUM_API_SECRET = "%%bluum_secret%%"
AWS_ACCESS_KEY_ID = "%%aws_key%%"
AWS_SECRET_ACCESS_KEY = "%%aws_secret%%"
DATABASE_URL = "postgres://acme:%%db_password%%@db.internal:5432/acme"
SESSION_COOKIE_NAME = "acme_sessionid"
password = "%%password%%"
