"""The CI files we ship (action.yml, the GitLab template, the pre-commit hook) and the examples of docs/ci.md:
linted with actionlint and check-jsonschema's bundled schemas, and the action's shell steps run for real."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
ACTION = ROOT / "action.yml"
GITLAB = ROOT / "ci" / "gitlab" / "bluum-readiness.gitlab-ci.yml"
HOOKS = ROOT / ".pre-commit-hooks.yaml"
DOC = ROOT / "docs" / "ci.md"
BIN = Path(sys.executable).parent
#: A made-up secret for a project that commits one.
FAKE_SECRET = "8d6f0b3c71a94e2fb5c09d7e1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d"  # pragma: allowlist secret


def tool(name: str) -> str:
    found = shutil.which(name, path=str(BIN)) or shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is missing: pip install -e '.[test]' installs it")
    return found


def doc_block(language: str, first_line: str) -> str:
    blocks = re.findall(rf"```{language}\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    [block] = [b for b in blocks if b.startswith(first_line)]
    return block


def check_jsonschema(schema: str, *files: Path) -> None:
    """check-jsonschema's command in this process (a process of its own was ~0.3 s of CPU a file set, its imports)."""
    from check_jsonschema import main as check_jsonschema_command
    from click.testing import CliRunner

    done = CliRunner().invoke(check_jsonschema_command, ["--builtin-schema", schema, *map(str, files)])
    assert done.exit_code == 0, done.output


def test_the_shipped_files_match_their_schemas(tmp_path):
    check_jsonschema("vendor.github-actions", ACTION)
    workflow = tmp_path / "workflow.yml"
    workflow.write_text(doc_block("yaml", "# .github/workflows/"), encoding="utf-8")
    check_jsonschema("vendor.github-workflows", workflow)
    gitlab_example = tmp_path / "gitlab-ci.yml"
    gitlab_example.write_text(doc_block("yaml", "# .gitlab-ci.yml"), encoding="utf-8")
    check_jsonschema("vendor.gitlab-ci", GITLAB, gitlab_example)


def test_a_schema_violation_is_caught(tmp_path):
    broken = tmp_path / "action.yml"
    broken.write_text(ACTION.read_text().replace("using: composite", "using: compost"), encoding="utf-8")
    with pytest.raises(AssertionError, match="compost"):
        check_jsonschema("vendor.github-actions", broken)


def _actionlint(repo: Path, workflow_text: str) -> subprocess.CompletedProcess[str]:
    (repo / ".github" / "workflows").mkdir(parents=True)
    shutil.copy(ACTION, repo / "action.yml")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    # the action as the workflow would fetch it, resolved locally so that actionlint checks every input against it
    local = re.sub(r"uses: \S+/bluum-readiness@\S+", "uses: ./", workflow_text)
    assert local != workflow_text, "the documented workflow no longer uses the action"
    (repo / ".github" / "workflows" / "bluum-readiness.yml").write_text(local, encoding="utf-8")
    return subprocess.run([tool("actionlint"), "-no-color"], cwd=repo, capture_output=True, text=True, timeout=60)


def test_actionlint_passes_the_documented_workflow_with_the_action(tmp_path):
    workflow = doc_block("yaml", "# .github/workflows/")
    assert "fetch-depth: 0" in workflow
    done = _actionlint(tmp_path / "good", workflow)
    assert done.returncode == 0, done.stdout + done.stderr
    # and it would catch an input the action does not have
    wrong = _actionlint(tmp_path / "bad", workflow.replace("integration:", "integraton:"))
    assert wrong.returncode == 1 and 'input "integraton" is not defined' in wrong.stdout, wrong.stdout


def test_the_gitlab_template_fetches_the_full_history_and_keeps_the_report():
    template = yaml.safe_load(GITLAB.read_text(encoding="utf-8"))[".bluum-readiness"]
    assert template["variables"]["GIT_DEPTH"] == "0"
    assert template["artifacts"]["when"] == "always"
    assert template["artifacts"]["reports"]["junit"] == "$BLUUM_READINESS_OUT/junit.xml"


def _expand(value: Any, context: dict[str, str]) -> str:
    """A ``${{ … }}`` expression of the action's env, replaced by its value in ``context`` (inputs.*, steps.*)."""

    def one(match: re.Match[str]) -> str:
        return context[match.group(1).strip()]

    return re.sub(r"\$\{\{(.*?)\}\}", one, str(value))


def _run_step(step: dict[str, Any], context: dict[str, str], env: dict[str, str], cwd: Path) -> str:
    assert step["shell"] == "bash"
    step_env = {**env, **{k: _expand(v, context) for k, v in step.get("env", {}).items()}}
    folder = cwd / _expand(step.get("working-directory", "."), context)
    # GitHub runs `shell: bash` steps as `bash --noprofile --norc -eo pipefail {0}`
    done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]], cwd=folder,
                          env=step_env, capture_output=True, text=True, timeout=300)  # fmt: skip
    context[f"{step.get('id', step['name'])}.exit"] = str(done.returncode)
    return done.stdout + done.stderr


def _build_backend_at_hand() -> dict[str, str]:
    """pip's setting to build the suite with the build backend this test runs on (the test extra has it, at a
    version ``build-system.requires`` accepts: checked here), as a runner's cache would have it: an isolated build
    environment would first install hatchling and its dependencies (~2 s). Without it installed, pip isolates."""
    try:
        installed = metadata.version("hatchling")
    except metadata.PackageNotFoundError:
        return {}
    [required] = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["build-system"]["requires"]
    requirement = Requirement(required)
    assert requirement.name == "hatchling" and requirement.specifier.contains(installed), (required, installed)
    return {"PIP_NO_BUILD_ISOLATION": "0"}  # sic: pip reads PIP_NO_* as "no" = off, i.e. isolation off


def _outputs(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def test_the_actions_shell_steps_run_the_suite_and_gate_on_its_exit_code(tmp_path):
    """Every `run:` step of action.yml, in order, with the variables a runner gives: install from the action's
    checkout, a run whose credentials item fails (a key committed in the project), the annotation of that check,
    the summary, the outputs, and the gate exiting 1."""
    steps = yaml.safe_load(ACTION.read_text(encoding="utf-8"))["runs"]["steps"]
    runner_temp, workspace = tmp_path / "runner", tmp_path / "workspace"
    runner_temp.mkdir()
    (workspace / "project").mkdir(parents=True)
    (workspace / "project" / "settings.py").write_text(f'BLUUM_API_SECRET = "{FAKE_SECRET}"\n')
    files = {name: runner_temp / name for name in ("output", "summary", "path")}
    for file in files.values():
        file.touch()
    # The runner's pip cache, as it were: the suite's dependencies are the ones this test runs on, so the install
    # step builds and installs the suite itself from the action's checkout (its dependencies are satisfied).
    venv = runner_temp / "bluum-readiness"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next((venv / "lib").glob("python3*/site-packages"))
    (site / "zz-runner-cache.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {
        "PATH": f"{BIN}:{os.environ['PATH']}",
        "HOME": os.environ.get("HOME", str(tmp_path)),
        **_build_backend_at_hand(),
        "RUNNER_TEMP": str(runner_temp),
        "GITHUB_ACTION_PATH": str(ROOT),
        "GITHUB_OUTPUT": str(files["output"]),
        "GITHUB_STEP_SUMMARY": str(files["summary"]),
        "GITHUB_PATH": str(files["path"]),
    }
    context = {
        "inputs.integration": "bluum_readiness.reference:create_fast",
        "inputs.target": "embedded",
        "inputs.only": "credentials",
        "inputs.working-directory": "project",
        "inputs.out": "readiness-out",
        "inputs.args": "-n 0",
    }
    shell_steps = [s for s in steps if "run" in s]
    assert [s["name"] for s in steps if "uses" in s] == ["Set up Python", "Upload the report folder"]
    install, run, annotate, gate = shell_steps
    log = _run_step(install, context, env, workspace)
    assert context[f"{install['name']}.exit"] == "0", log
    env["PATH"] = f"{files['path'].read_text().strip()}:{env['PATH']}"  # what the runner does with GITHUB_PATH
    assert shutil.which("bluum-readiness", path=env["PATH"]) == str(venv / "bin" / "bluum-readiness")
    log = _run_step(run, context, env, workspace)
    assert context["run.exit"] == "0", log  # the step records the run's code; the gate decides
    outputs = _outputs(files["output"])
    assert outputs["exit-code"] == "1", log
    assert outputs["verdict"].startswith("NOT READY (failed: credentials; 1 finding from 1 cause)"), outputs
    report = Path(outputs["report-dir"])
    assert report == workspace / "project" / "readiness-out" and (report / "junit.xml").is_file()
    assert (
        "NOT READY" in files["summary"].read_text() and "credentials.no-secrets-in-code" in files["summary"].read_text()
    )
    context.update({f"steps.run.outputs.{k}": v for k, v in outputs.items()})
    log = _run_step(annotate, context, env, workspace)
    errors = [line for line in log.splitlines() if line.startswith("::error ")]
    assert any("credentials.no-secrets-in-code" in line and "settings.py" in line for line in errors), log
    assert all("\n" not in line for line in errors)
    log = _run_step(gate, context, env, workspace)
    assert context[f"{gate['name']}.exit"] == "1" and "the run exited 1" in log, log


def test_the_pre_commit_hook_runs_the_secret_scan(tmp_path):
    [hook] = yaml.safe_load(HOOKS.read_text(encoding="utf-8"))
    assert hook["id"] == "bluum-secret-scan" and hook["language"] == "python" and hook["pass_filenames"] is False
    entry = hook["entry"].split()
    assert entry[:3] == ["python", "-m", "bluum_readiness.credentials"]
    (tmp_path / "clean.py").write_text("TIMEOUT_S = 10\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BLUUM_")}
    clean = subprocess.run([sys.executable, *entry[1:]], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    (tmp_path / "leak.py").write_text(f'SECRET = "{FAKE_SECRET}"\n')
    leaked = subprocess.run([sys.executable, *entry[1:]], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert leaked.returncode == 1 and "leak.py:1" in leaked.stdout, leaked.stdout + leaked.stderr
