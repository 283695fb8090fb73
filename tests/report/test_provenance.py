"""Where a check was proven: the registry's static checks and the report's reading of older records agree."""


def test_the_checks_that_read_files_are_the_registrys_static_ones() -> None:
    """A run stamps "static" from the registry; records written before checks recorded their provenance are read by
    check id: the two lists must be one."""
    from bluum_readiness.checks import registry
    from bluum_readiness.report.provenance import STATIC_CHECKS

    assert {c.id for c in registry if c.static} == STATIC_CHECKS
