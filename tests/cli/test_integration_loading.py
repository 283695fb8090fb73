"""``--integration``: every way an adapter can fail to load is one line and exit 2 (never a traceback), a path to the
adapter's file works as well as its module name, and a factory that never returns is bounded."""

from __future__ import annotations

import json
import sys
import threading
import time

import pytest

from bluum_readiness.cli.main import main
from bluum_readiness.errors import ConfigError
from bluum_readiness.integration import IntegrationEnv, IntegrationError, load_factory, make_integration

GOOD_ADAPTER = "from bluum_readiness.reference import create_fast as create\n"


@pytest.fixture
def project(tmp_path, monkeypatch):
    """An empty project folder as the current directory, on sys.path as `run` puts it; modules it adds are dropped."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    before = set(sys.modules)
    yield tmp_path
    for name in set(sys.modules) - before:
        sys.modules.pop(name, None)


def _error(capsys, argv: list[str]) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    return err


@pytest.mark.parametrize("how", ["module", "path"])
def test_a_syntax_error_names_the_file_line_and_error(project, capsys, how):
    (project / "broken_adapter.py").write_text("def create(env):\n    return 1 +\n")
    spec = "broken_adapter:create" if how == "module" else "./broken_adapter.py:create"
    err = _error(capsys, ["run", "--integration", spec, "--out", "out"])
    assert f"{project / 'broken_adapter.py'}, line 2" in err
    assert "syntax error" in err and "invalid syntax" in err


@pytest.mark.parametrize("how", ["module", "path"])
def test_an_exception_at_import_names_the_file_line_and_error(project, capsys, how):
    (project / "raising_adapter.py").write_text("import os\n\nraise RuntimeError('no DATABASE_URL set')\n")
    spec = "raising_adapter:create" if how == "module" else "raising_adapter.py:create"
    err = _error(capsys, ["run", "--integration", spec, "--out", "out"])
    assert f"{project / 'raising_adapter.py'}, line 3" in err
    assert "RuntimeError: no DATABASE_URL set" in err


def test_a_missing_dependency_of_the_adapter_is_said_as_such(project, capsys):
    (project / "needs_dep.py").write_text("import no_such_dependency_zz\n")
    err = _error(capsys, ["run", "--integration", "needs_dep:create", "--out", "out"])
    assert "ModuleNotFoundError: No module named 'no_such_dependency_zz'" in err
    assert f"{project / 'needs_dep.py'}, line 1" in err


def test_sys_exit_at_import_is_an_error_not_an_exit(project, capsys):
    (project / "exiting_adapter.py").write_text("import sys\nsys.exit(3)\n")
    err = _error(capsys, ["run", "--integration", "exiting_adapter:create", "--out", "out"])
    assert "sys.exit(3)" in err


@pytest.mark.parametrize("spec", ["exe:node adapter.mjs", "EXEC:node adapter.mjs", "exce:node adapter.mjs"])
def test_a_misspelt_exec_prefix_gets_a_did_you_mean(project, capsys, spec):
    err = _error(capsys, ["run", "--integration", spec, "--out", "out"])
    assert 'Did you mean "exec:COMMAND"' in err


def test_an_unknown_module_suggests_naming_its_file(project, capsys):
    err = _error(capsys, ["run", "--integration", "my_adapter:create", "--out", "out"])
    assert "--integration ./my_adapter.py:create" in err


@pytest.mark.parametrize("spec", ["./nope.py:create", "adapters/nope.py:create", "./folder:create"])
def test_a_path_that_is_not_a_python_file_says_so(project, capsys, spec):
    (project / "folder").mkdir()
    err = _error(capsys, ["run", "--integration", spec, "--out", "out"])
    assert "Python file" in err or "no such file" in err


@pytest.mark.parametrize("spec", ["./bluum_adapter.py:create", "bluum_adapter.py:create", "{abs}:create"])
def test_a_path_to_the_adapter_file_loads_it(project, spec):
    (project / "bluum_adapter.py").write_text(GOOD_ADAPTER)
    factory = load_factory(spec.format(abs=project / "bluum_adapter.py"))
    from bluum_readiness.reference import create_fast

    assert factory is create_fast


def test_a_file_in_another_folder_imports_its_siblings(project):
    (project / "adapters").mkdir()
    (project / "adapters" / "team_client.py").write_text("NAME = 'sibling'\n")
    adapter = "import team_client\n\n\ndef create(env):\n    return team_client.NAME\n"
    (project / "adapters" / "team_adapter.py").write_text(adapter)
    factory = load_factory("adapters/team_adapter.py:create")
    assert factory(None) == "sibling"  # type: ignore[arg-type]


def test_a_file_named_like_a_loaded_module_is_still_its_own(project):
    (project / "json.py").write_text("def create(env):\n    return 'mine'\n")
    factory = load_factory("./json.py:create")
    assert factory(None) == "mine"  # type: ignore[arg-type]
    import json

    assert json.dumps([1]) == "[1]"  # the standard library's json is untouched


def test_a_run_with_a_path_to_the_adapter_passes(project, capsys):
    """End to end (the suite reloads the factory in its own process): `--integration ./bluum_adapter.py:create`.
    The credentials item is the quickest whose checks call the adapter: ``secret-source`` hands it a fresh pair and
    calls ``kyc_status`` (the idempotency item took ~1.5 s more, waiting out its withheld responses)."""
    (project / "bluum_adapter.py").write_text(GOOD_ADAPTER)
    code = main(["run", "--only", "credentials", "--integration", "./bluum_adapter.py:create", "--out", "out"])
    out = capsys.readouterr()
    assert code == 0, out.out[-3000:] + out.err[-3000:]
    document = json.loads((project / "out" / "readiness.json").read_text())
    called = next(c for i in document["items"] for c in i["checks"] if c["id"] == "credentials.secret-source")
    assert called["status"] == "passed", called


def _env() -> IntegrationEnv:
    return IntegrationEnv(base_url="http://127.0.0.1:9/v1", credentials=lambda: None)  # type: ignore[arg-type,return-value]


def test_a_factory_that_never_returns_is_bounded_and_named():
    release = threading.Event()

    def never_returns(env: IntegrationEnv) -> object:
        release.wait(30)
        return object()

    started = time.monotonic()
    with pytest.raises(IntegrationError) as caught:
        make_integration(never_returns, _env(), timeout_s=0.2)
    assert time.monotonic() - started < 5
    message = str(caught.value)
    assert "never_returns" in message and "did not return within 0.2 s" in message
    # the next call does not wait again: the factory is known to hang
    started = time.monotonic()
    with pytest.raises(IntegrationError, match="earlier in this run"):
        make_integration(never_returns, _env(), timeout_s=0.2)
    assert time.monotonic() - started < 0.15
    release.set()


def test_a_bounded_factory_still_returns_and_raises_as_before():
    from bluum_readiness.reference import create_fast

    made = make_integration(create_fast, _env(), timeout_s=5)
    assert callable(made.deposit)

    def raises(env: IntegrationEnv) -> object:
        raise ValueError("bad settings")

    with pytest.raises(IntegrationError, match="the integration factory raised ValueError: bad settings"):
        make_integration(raises, _env(), timeout_s=5)

    def config_error(env: IntegrationEnv) -> object:
        raise ConfigError("a harness error passes through")

    with pytest.raises(ConfigError):
        make_integration(config_error, _env(), timeout_s=5)
