"""The ``bluum-readiness`` command line."""
