"""bluum-readiness: prove a Bluum Finance API integration is ready for production.

The package holds all of it: the command line (``cli``), the suite that runs the checks as pytest items
(``suite``), the checks as scenarios and judges (``checks``), the harness, the fault proxy, the embedded sandbox
twin, the adapter protocol, the reference integration and the report writers. ARCHITECTURE.md is the map.
"""

from bluum_readiness._version import __version__

__all__ = ["__version__"]
