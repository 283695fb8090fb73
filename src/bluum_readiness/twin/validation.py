"""Request validation: pydantic models for bodies, mapped onto Bluum's 400 codes.

Field types below raise errors whose pydantic ``type`` *is* the Bluum code
(e.g. ``BLUM-400-005`` for a bad amount), so mapping a validation failure to
the API's answer is one table lookup. Unknown body fields are ignored.
"""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError
from pydantic_core import PydanticCustomError

from bluum_readiness.twin.errors import ApiError
from bluum_readiness.twin.ids import is_id, looks_like_uuid

__all__ = [
    "Amount",
    "Body",
    "Country",
    "Currency",
    "Email",
    "IsoDate",
    "Phone",
    "PositiveDecimal",
    "Quantity",
    "JsonRejected",
    "api_error_from",
    "ascii_int",
    "in_timestamp_range",
    "load_json",
    "parse_json_body",
    "prefixed_id",
]

# ASCII digits only and the whole string (``fullmatch``): ``\d`` also matches Arabic-Indic, fullwidth and
# mathematical digits, which ``Decimal`` then reads as ordinary ones, and ``$`` lets a trailing newline through.
_AMOUNT_RE = re.compile(r"[0-9]+(\.[0-9]{1,2})?")
_DECIMAL_RE = re.compile(r"[0-9]+(\.[0-9]+)?")
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_PHONE_RE = re.compile(r"\+[1-9][0-9]{6,14}")
_COUNTRY_RE = re.compile(r"[A-Z]{2}")
_CURRENCY_RE = re.compile(r"[A-Z]{3}")
_EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _amount(value: Any) -> str:
    if not isinstance(value, str) or not _AMOUNT_RE.fullmatch(value) or Decimal(value) <= 0:
        raise PydanticCustomError(
            "BLUM-400-005", 'must be a positive decimal string with at most 2 decimal places, e.g. "100.00"'
        )
    return value


def _quantity(value: Any) -> str:
    if not isinstance(value, str) or not _DECIMAL_RE.fullmatch(value) or Decimal(value) <= 0:
        raise PydanticCustomError("BLUM-400-006", 'must be a positive decimal string, e.g. "1" or "0.5"')
    return value


def _positive_decimal(value: Any) -> str:
    if not isinstance(value, str) or not _DECIMAL_RE.fullmatch(value) or Decimal(value) <= 0:
        raise PydanticCustomError("BLUM-400-003", 'must be a positive decimal string, e.g. "178.50"')
    return value


def _pattern(regex: re.Pattern[str], what: str, transform: Any = None) -> Any:
    def check(value: Any) -> str:
        if isinstance(value, str) and transform is not None:
            value = transform(value)
        if not isinstance(value, str) or not regex.fullmatch(value):
            raise PydanticCustomError("BLUM-400-003", f"must be {what}")
        return value

    return check


Amount = Annotated[str, BeforeValidator(_amount)]
Quantity = Annotated[str, BeforeValidator(_quantity)]
PositiveDecimal = Annotated[str, BeforeValidator(_positive_decimal)]
IsoDate = Annotated[str, BeforeValidator(_pattern(_DATE_RE, "a date in YYYY-MM-DD format"))]
Phone = Annotated[str, BeforeValidator(_pattern(_PHONE_RE, "an E.164 phone number, e.g. +14155550123"))]
Country = Annotated[str, BeforeValidator(_pattern(_COUNTRY_RE, "an ISO 3166-1 alpha-2 country code, e.g. US"))]
Currency = Annotated[
    str, BeforeValidator(_pattern(_CURRENCY_RE, "an ISO 4217 currency code, e.g. USD", transform=str.upper))
]
Email = Annotated[str, BeforeValidator(_pattern(_EMAIL_RE, "an email address"))]


class Body(BaseModel):
    """Base of every request body model: unknown fields ignored, strict types, no coercion."""

    model_config = ConfigDict(extra="ignore", strict=True)


_CODE_BY_PYDANTIC_TYPE = {
    "missing": "BLUM-400-002",
    "literal_error": "BLUM-400-004",
    "enum": "BLUM-400-004",
}


def _loc(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(p) for p in loc) if loc else "body"


def api_error_from(exc: ValidationError) -> ApiError:
    """The first validation error as an ApiError with the right Bluum code and ``param``."""
    err = exc.errors()[0]
    param = _loc(tuple(err["loc"]))
    kind = err["type"]
    if kind.startswith("BLUM-"):
        code = kind
    else:
        code = _CODE_BY_PYDANTIC_TYPE.get(kind, "BLUM-400-001")
    if code == "BLUM-400-002":
        message = f"Missing required field '{param}'."
    elif code == "BLUM-400-004" and "expected" in (err.get("ctx") or {}):
        message = f"Invalid value for '{param}': expected {err['ctx']['expected']}."
    else:
        message = f"Invalid value for '{param}': {err['msg']}."
    return ApiError(code, message, param=param)


M = TypeVar("M", bound=BaseModel)


class JsonRejected(ValueError):
    """JSON the twin will not read; the message says why, for the API caller (it completes "The request body …")."""


_MAX_INT_DIGITS = 4300
"""Python's own limit on converting a digit string to ``int`` (``sys.get_int_max_str_digits``), stated here so
the twin does not depend on the interpreter's setting."""


def _json_int(text: str) -> int:
    if len(text.lstrip("-")) > _MAX_INT_DIGITS:
        raise JsonRejected(f"holds a number with more than {_MAX_INT_DIGITS:,} digits")
    return int(text)


def _json_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JsonRejected(f"holds a number too large for JSON ({text[:20]})")
    return value


def _json_constant(name: str) -> Any:
    raise JsonRejected(f"holds {name}, which is not a JSON number")


def load_json(raw: bytes | str) -> Any:
    """JSON as RFC 8259 defines it, or ``JsonRejected`` saying what is wrong.

    Stricter than ``json.loads`` where its leniency reached the database or the response as a 500: ``NaN`` and
    ``±Infinity`` literals and numbers that overflow a float are refused (SQLite's JSON functions and the JSON
    response reject them), as are integers of more than 4,300 digits (Python's int-string limit raised
    ``ValueError``), nesting deeper than the parser's stack (``RecursionError``), and a lone UTF-16
    surrogate escape such as ``"\\ud800"`` in any string or key (it cannot be encoded as UTF-8 for the response).
    """
    try:
        data = json.loads(raw, parse_int=_json_int, parse_float=_json_float, parse_constant=_json_constant)
        json.dumps(data, ensure_ascii=False).encode("utf-8")  # a lone surrogate escape cannot be stored or sent
        return data
    except UnicodeEncodeError:
        raise JsonRejected("holds a lone UTF-16 surrogate escape (such as \\ud800), which is not text") from None
    except JsonRejected:
        raise
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise JsonRejected(f"is not valid JSON ({exc})") from None
    except RecursionError:  # found by tests/reliability: nesting deeper than the parser's stack was a 500
        raise JsonRejected("is nested too deeply") from None
    except ValueError as exc:  # any other number the parser cannot hold
        raise JsonRejected(f"holds a number that cannot be read ({str(exc)[:80]})") from None


MAX_TIMESTAMP = 253402300799.0
"""9999-12-31T23:59:59Z in unix seconds: the last instant the twin's ISO 8601 rendering can write."""


def in_timestamp_range(seconds: float, param: str) -> float:
    """``seconds`` when it is a finite unix time from 1970 to the end of 9999, else 400 BLUM-400-003 (a time
    outside it was a 500 when the twin rendered it as ISO 8601)."""
    if not (math.isfinite(seconds) and 0 <= seconds <= MAX_TIMESTAMP):
        raise ApiError(
            "BLUM-400-003",
            f"'{param}' must be a time from 1970-01-01T00:00:00Z to 9999-12-31T23:59:59Z.",
            param=param,
        )
    return seconds


def ascii_int(raw: str, max_digits: int = 18) -> int | None:
    """``raw`` as a non-negative integer when it is 1 to ``max_digits`` ASCII digits, else ``None``.

    ``int()`` also accepts signs, underscores, surrounding spaces and any Unicode digit, and raises on more
    than 4,300 digits; ``str.isdigit`` accepts superscripts that ``int()`` then refuses.
    """
    if not 0 < len(raw) <= max_digits or not raw.isascii() or not raw.isdigit():
        return None
    return int(raw)


def parse_json_body(raw: bytes, model: type[M]) -> M:
    """Parse and validate a JSON request body, or raise the API's 400."""
    if not raw.strip():
        data: Any = {}
    else:
        try:
            data = load_json(raw)
        except JsonRejected as exc:
            raise ApiError("BLUM-400-001", f"The request body {exc}; send a JSON object.") from None
    if not isinstance(data, dict):
        raise ApiError("BLUM-400-001", "The request body must be a JSON object.")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise api_error_from(exc) from None


def prefixed_id(value: str, prefix: str, param: str) -> str:
    """Accept ``<prefix>_…`` ids; a raw UUID is 400 BLUM-400-003 as Bluum documents; other junk is not found."""
    if is_id(value, prefix):
        return value
    if looks_like_uuid(value):
        raise ApiError(
            "BLUM-400-003",
            f"'{param}' must be a prefixed id ({prefix}_…), not a raw UUID.",
            param=param,
        )
    raise ApiError("BLUM-404-001", f"No such resource: {value!r} is not a valid {prefix}_ id.", param=param)


def decimal_of(value: str) -> Decimal:
    try:
        return Decimal(value)
    except InvalidOperation as exc:  # pragma: no cover - validated upstream
        raise ApiError("BLUM-400-001", f"{value!r} is not a decimal") from exc
