"""The corpus (``corpus/``) is data the precision test scans, not tests: its ``test_*.py`` files import modules
of an imaginary app."""

collect_ignore_glob = ["corpus/*"]
