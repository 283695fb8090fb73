"""Credential hygiene for the ``credentials`` item: the secret scan (``scan``, with the Bluum detect-secrets
plugins in ``plugins``) and credential sources beyond env/file/command (``sources``: AWS Secrets Manager).

``python -m bluum_readiness.credentials scan|baseline`` runs the scan on its own (see ``__main__``).
"""

from bluum_readiness.credentials.scan import BASELINE_FILE, Finding, ScanResult, scan, write_baseline

__all__ = ["BASELINE_FILE", "Finding", "ScanResult", "scan", "write_baseline"]
