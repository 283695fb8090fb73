"""bluum-readiness: prove a Bluum Finance API integration is ready for production.

The package holds all of it: the command line (``cli``), the suite that runs the checks as pytest items
(``suite``), the checks as scenarios and judges (``checks``), the harness, the fault proxy, the embedded sandbox
twin, the adapter protocol, the reference integration and the report writers. ARCHITECTURE.md is the map.
"""

import sys

from bluum_readiness._version import __version__

if "httpx" not in sys.modules:
    # httpx imports its own command-line client (click, pygments, rich's progress bars and syntax) whenever click is
    # installed, and uvicorn installs click: ~50 ms of CPU at the start of every process of ours that speaks HTTP
    # (the run and its workers, the sandbox, the proxy, adapter programs) for a command none of them runs. A None in
    # sys.modules makes that one import fail, and httpx then defines ``httpx.main`` as a stub saying its CLI is not
    # available. The ``httpx`` command itself runs in its own process and is unaffected (docs/performance.md).
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

__all__ = ["__version__"]
