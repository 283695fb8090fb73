"""``bluum-readiness init``: a starter config and an adapter template that loads; never overwrites."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from bluum_readiness.cli.main import main
from bluum_readiness.config import load_config
from bluum_readiness.integration import OPERATIONS, Credentials, IntegrationEnv, make_integration


def test_init_writes_a_valid_config_and_a_complete_adapter(tmp_path: Path, capsys) -> None:
    assert main(["init", "--dir", str(tmp_path)]) == 0
    assert "wrote" in capsys.readouterr().out
    config = load_config(cwd=tmp_path)
    assert config.integration == "bluum_adapter:create" and config.embedded
    spec = importlib.util.spec_from_file_location("bluum_adapter", tmp_path / "bluum_adapter.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    env = IntegrationEnv(base_url="http://127.0.0.1:1/v1", credentials=lambda: Credentials("k", "s"))
    adapter = make_integration(module.create, env)  # every operation of the contract is there
    text = (tmp_path / "bluum_adapter.py").read_text()
    assert all(f"def {op}(" in text for op in OPERATIONS) and "TODO" in text
    assert adapter.env is env


def test_init_refuses_to_overwrite(tmp_path: Path, capsys) -> None:
    (tmp_path / "bluum-readiness.toml").write_text("# mine\n")
    assert main(["init", "--dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "already exists" in err and "never overwrites" in err
    assert (tmp_path / "bluum-readiness.toml").read_text() == "# mine\n"
    assert not (tmp_path / "bluum_adapter.py").exists()


def test_init_lang_node_writes_the_protocol_starter_and_a_config_that_runs_it(tmp_path: Path, capsys) -> None:
    import shutil

    from bluum_readiness.protocol import ProgramFactory

    assert main(["init", "--lang", "node", "--dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "bluum_adapter.mjs" in out and "docs/adapter-protocol.md" in out
    assert not (tmp_path / "bluum_adapter.py").exists()
    config = load_config(cwd=tmp_path)
    assert config.integration == "exec:node bluum_adapter.mjs"
    text = (tmp_path / "bluum_adapter.mjs").read_text()
    assert all(f"async {op}(" in text for op in OPERATIONS) and "TODO" in text
    assert "import" in text and 'from "node:readline"' in text and "npm" not in text  # no dependencies
    if shutil.which("node") is None:
        raise AssertionError("node is needed to prove the starter speaks the protocol (CI installs nodejs)")
    # the untouched starter already speaks the protocol: it starts, shakes hands and shuts down
    assert ProgramFactory(f"node {tmp_path / 'bluum_adapter.mjs'}").probe() == "bluum-adapter"


def test_init_lang_is_validated(tmp_path: Path, capsys) -> None:
    import pytest

    with pytest.raises(SystemExit) as exited:
        main(["init", "--lang", "cobol", "--dir", str(tmp_path)])
    assert exited.value.code == 2
    assert "invalid choice: 'cobol'" in capsys.readouterr().err
