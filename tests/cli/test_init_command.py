"""``bluum-readiness init``: a starter config and an adapter template that loads; never overwrites."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

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
    err = capsys.readouterr().err
    assert "invalid choice: 'cobol'" in err and "go" in err and "java" in err


def _init_and_probe(lang: str, tmp_path: Path, capsys, monkeypatch) -> tuple[str, Path]:
    """``init --lang LANG``, then the untouched starter run as its config says: it speaks the protocol and answers
    every operation with a TODO error that names the file to edit."""
    import subprocess

    from bluum_readiness.integration import Credentials, IntegrationEnv
    from bluum_readiness.protocol import ProgramFactory
    from bluum_readiness.protocol.adapter import OperationFailed
    from tests.protocol import starters

    starters.require_toolchain(lang)
    assert main(["init", "--lang", lang, "--dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "docs/adapter-protocol.md" in out
    config = load_config(cwd=tmp_path)
    assert config.integration is not None and config.integration.startswith("exec:")
    adapter = tmp_path / starters.STARTERS[lang].adapter_file
    text = adapter.read_text(encoding="utf-8")
    assert "TODO" in text and starters.TODO_LINES[lang] in text
    monkeypatch.chdir(tmp_path)  # the config's command is relative to the project folder, as for a user
    if lang == "java":
        assert "javac -d build BluumAdapter.java" in out
        # as the output says, javac's own JVM without its optimising JIT (half the CPU, the same classes)
        subprocess.run(["javac", *starters.JAVAC_JVM, "-d", "build", adapter.name], check=True, timeout=300)
    factory = ProgramFactory(config.integration.removeprefix("exec:"))
    assert factory.probe() == "bluum-adapter"
    env = IntegrationEnv(base_url="http://127.0.0.1:9/v1", credentials=lambda: Credentials("k", "s"))
    integration = factory(env)
    try:
        import pytest

        with pytest.raises(
            OperationFailed, match=f"TODO: deposit is not wired to our Bluum client yet .*{adapter.name}"
        ):
            integration.deposit("inv_1", "fs_1", "5.00")
    finally:
        integration.close()
    return text, adapter


def test_init_lang_go_writes_a_standard_library_starter_that_speaks_the_protocol(tmp_path, capsys, monkeypatch):
    import subprocess

    text, adapter = _init_and_probe("go", tmp_path, capsys, monkeypatch)
    vetted = subprocess.run(["go", "vet", adapter.name], capture_output=True, text=True, timeout=300)
    assert vetted.returncode == 0, vetted.stderr
    assert subprocess.run(["gofmt", "-l", adapter.name], capture_output=True, text=True).stdout == ""
    assert load_config(cwd=tmp_path).integration == "exec:go run bluum_adapter.go"
    imports = text.split("import (", 1)[1].split(")", 1)[0].split()
    assert all("." not in path for path in imports), imports  # the standard library only (no module host)
    assert all(f'"{op}"' in text for op in OPERATIONS)


def test_init_lang_java_writes_a_standard_library_starter_that_speaks_the_protocol(tmp_path, capsys, monkeypatch):
    import re

    text, _ = _init_and_probe("java", tmp_path, capsys, monkeypatch)  # compiled with javac as the output says
    java = "java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
    assert load_config(cwd=tmp_path).integration == f"exec:{java} -cp build BluumAdapter"
    imports = re.findall(r"^import ([\w.]+);", text, flags=re.M)
    assert imports and all(name.startswith(("java.", "javax.", "com.sun.net.httpserver.")) for name in imports)
    assert all(f'"{op}"' in text for op in OPERATIONS)


def _one_line_error(capsys, argv: list[str]) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    return err


def test_init_onto_a_file_is_one_line(tmp_path: Path, capsys) -> None:
    (tmp_path / "afile").write_text("x")
    assert "is a file, not a folder" in _one_line_error(capsys, ["init", "--dir", str(tmp_path / "afile")])
    assert "Not a directory" in _one_line_error(capsys, ["init", "--dir", str(tmp_path / "afile" / "sub")])


def test_init_with_a_folder_name_too_long_is_one_line(tmp_path: Path, capsys) -> None:
    assert "File name too long" in _one_line_error(capsys, ["init", "--dir", str(tmp_path / ("z" * 300))])


def test_init_into_a_folder_it_cannot_write_is_one_line_and_leaves_nothing(tmp_path: Path, capsys) -> None:
    """A read-only folder (chmod, for a user who is not root) and an immutable one (chattr +i, which binds root too;
    skipped where the file system or the user cannot set it)."""
    import os
    import subprocess

    folder = tmp_path / "locked"
    folder.mkdir()
    if os.geteuid() != 0:
        folder.chmod(0o555)
        undo = ["chmod", "755", str(folder)]
    else:
        made = subprocess.run(["chattr", "+i", str(folder)], capture_output=True, check=False)
        if made.returncode != 0:
            pytest.skip(f"chattr +i is not available here: {made.stderr!r}")
        undo = ["chattr", "-i", str(folder)]
    try:
        err = _one_line_error(capsys, ["init", "--dir", str(folder)])
    finally:
        subprocess.run(undo, check=True)
    assert "cannot write the starter files" in err
    assert list(folder.iterdir()) == []


def test_init_writes_both_files_or_none(tmp_path: Path, capsys, monkeypatch) -> None:
    """When the second file cannot be written, the first is removed again (no half a starter)."""
    from bluum_readiness.cli import init

    real_open = Path.open

    def refuse_the_adapter(self: Path, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self.name == init.ADAPTER_FILE:
            raise OSError(28, "No space left on device", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", refuse_the_adapter)
    assert "No space left on device" in _one_line_error(capsys, ["init", "--dir", str(tmp_path)])
    assert list(tmp_path.iterdir()) == []


def test_init_shows_the_alerts_table_commented_and_it_reads_once_uncommented(tmp_path: Path, capsys) -> None:
    assert main(["init", "--dir", str(tmp_path)]) == 0
    path = tmp_path / "bluum-readiness.toml"
    text = path.read_text()
    assert "# [alerts]" in text and load_config(cwd=tmp_path).alerts is None  # commented: no listener
    block = text.split("# [alerts]\n", 1)[1].split("\n\n", 1)[0]
    lines = [line for line in block.splitlines() if not line.startswith("# ") or " = " in line.split("#")[1]]
    uncommented = "[alerts]\n" + "\n".join(line.removeprefix("# ") for line in lines)
    path.write_text(text.replace("# [alerts]\n" + block, uncommented))
    alerts = load_config(cwd=tmp_path).alerts
    assert alerts is not None and alerts.listen == "127.0.0.1:9094"
    assert alerts.expected("stuck_order") == "AcmeBluumStuckOrder" and alerts.quiet_s == 10.0
