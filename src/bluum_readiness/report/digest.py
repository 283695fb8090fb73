"""The report's SHA-256 digest: what ``bluum-readiness report --verify`` recomputes.

Covered: the whole readiness.json document except its own ``digest`` member — metadata (verdict, target, seed,
integration, times) and every item, check, status, reason and evidence field. The bytes hashed are the canonical
serialisation ``json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)`` encoded as UTF-8
(docs/reports.md shows how to recompute it with other tools).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

__all__ = ["ALGORITHM", "canonical_bytes", "evidence_digest", "recompute"]

ALGORITHM = "sha256"
COVERS = "the whole document except the digest member"


def canonical_bytes(document: dict[str, Any]) -> bytes:
    """The exact bytes the digest is taken over (the document without ``digest``)."""
    covered = {key: value for key, value in document.items() if key != "digest"}
    return json.dumps(covered, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def recompute(document: dict[str, Any]) -> str:
    """The hex SHA-256 of ``document`` as it stands now."""
    return hashlib.sha256(canonical_bytes(document)).hexdigest()


def evidence_digest(document: dict[str, Any]) -> dict[str, str]:
    """The ``digest`` member to store in ``document``."""
    return {"algorithm": ALGORITHM, "covers": COVERS, "value": recompute(document)}
