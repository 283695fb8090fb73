"""bluum-readiness: prove a Bluum Finance API integration is ready for production.

The package holds the machinery (the sandbox twin, and later the fault proxy,
the reference integration, the pytest plugin and the report writers); the
readiness suite itself lives in the top-level checklist/, lifecycle/, errors/
and webhooks/ folders.
"""

from bluum_readiness._version import __version__

__all__ = ["__version__"]
