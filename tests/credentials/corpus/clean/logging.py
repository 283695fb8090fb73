import logging
import re

REDACTED = "[redacted]"
SECRET_FIELDS = ("password", "api_secret", "authorization", "token")
TOKEN_PATTERN = re.compile(r"test_bluum_[0-9a-f]{64}")
AUTH_HEADER = "authorization"


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg = TOKEN_PATTERN.sub(REDACTED, message)
        record.args = ()
        return True


def redact(headers: dict[str, str]) -> dict[str, str]:
    return {k: (REDACTED if k.lower() in SECRET_FIELDS else v) for k, v in headers.items()}
