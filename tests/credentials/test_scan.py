"""The secret scan: Bluum rules and detect-secrets' own, excludes, size and binary limits, git awareness,
baselines and the inline allow-list. Findings name file, line and rule — never the secret."""

from __future__ import annotations

import base64
import json
import secrets
import subprocess
from pathlib import Path

import pytest

from bluum_readiness.config import CredentialsConfig, RunConfig, ScanConfig
from bluum_readiness.credentials.__main__ import main as credentials_main
from bluum_readiness.credentials.scan import hash_secret, scan, scan_configured, write_baseline
from bluum_readiness.errors import ConfigError


def sandbox_key() -> str:
    return f"test_bluum_{secrets.token_hex(32)}"


def write(root: Path, name: str, text: str) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def rules(root: Path, **kwargs) -> set[tuple[str, int, str]]:
    return {(f.file, f.line, f.rule) for f in scan(["."], cwd=root, **kwargs).findings}


def test_a_sandbox_key_in_code_is_found_with_file_line_and_rule_but_never_the_secret(tmp_path: Path) -> None:
    key = sandbox_key()
    write(tmp_path, "app/client.py", f'import os\n\nBASE = "https://x"\nKEY = "{key}"\n')
    result = scan(["."], cwd=tmp_path)
    assert [(f.file, f.line, f.rule) for f in result.findings] == [("app/client.py", 4, "Bluum sandbox API key")]
    finding = result.findings[0]
    assert str(finding) == "app/client.py:4: Bluum sandbox API key"
    shown = " ".join([str(finding), repr(finding), json.dumps(result.evidence())])
    assert key not in shown and key[11:] not in shown
    assert finding.hashed_secret == hash_secret(key)


@pytest.mark.parametrize(
    ("line", "rule"),
    [
        ('BLUUM_API_SECRET = "{hex}"', "Bluum API secret"),
        ("bluumApiKey: {hex}", "Bluum API secret"),
        ("BLUUM_API_SECRET={hex}", "Bluum API secret"),
        ('headers = {{"Authorization": "Basic {basic}"}}', "HTTP Basic authorization literal"),
        ("curl -H 'Authorization: Basic {basic}' https://x", "HTTP Basic authorization literal"),
        ('WEBHOOK = "whsec_{b64}"', "Webhook signing secret"),
    ],
)
def test_bluum_rules(tmp_path: Path, line: str, rule: str) -> None:
    values = {
        "hex": secrets.token_hex(32),
        "basic": base64.b64encode(f"apikey:{secrets.token_hex(8)}".encode()).decode(),
        "b64": base64.b64encode(secrets.token_bytes(24)).decode(),
    }
    write(tmp_path, "settings.txt", line.format(**values) + "\n")
    assert ("settings.txt", 1, rule) in rules(tmp_path)


@pytest.mark.parametrize(
    "line",
    [
        '"bluum-signature": "t=1767225600,v1={hex}"',  # a signature next to a Bluum name is not a secret
        'token = "Basic {{token}}"',  # a template, not a literal
        'request.headers["Authorization"] = f"Basic {{encoded}}"',
        "Authorization: Basic <base64 of key:secret>",
        'SECRET_PREFIX = "whsec_"',
        'secret_env = "ACME_BLUUM_WEBHOOK_SECRET"',  # names where the secret is
    ],
)
def test_no_bluum_finding_for_lookalikes(tmp_path: Path, line: str) -> None:
    write(tmp_path, "notes.py", line.format(hex=secrets.token_hex(32)) + "\n")
    bluum_rules = {
        "Bluum API secret",
        "Bluum sandbox API key",
        "HTTP Basic authorization literal",
        "Webhook signing secret",
    }
    assert not {r for (_, _, r) in rules(tmp_path)} & bluum_rules


def test_standard_detect_secrets_plugins_run_too(tmp_path: Path) -> None:
    write(tmp_path, "deploy.sh", "export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLX\n")
    assert ("deploy.sh", 1, "AWS Access Key") in rules(tmp_path)


def test_a_keyword_naming_an_environment_variable_is_not_a_finding_but_a_value_is(tmp_path: Path) -> None:
    write(tmp_path, "settings.py", 'secret_env = "ACME_BLUUM_WEBHOOK_SECRET"\npassword = "hunter2-Corr3ct-h0rse"\n')
    assert rules(tmp_path) == {("settings.py", 2, "Secret Keyword")}


def test_default_and_configured_excludes(tmp_path: Path) -> None:
    key = sandbox_key()
    for folder in (".git", ".venv", "node_modules", "readiness-out", "pkg.egg-info", "fixtures/deep"):
        write(tmp_path, f"{folder}/leak.py", f'K = "{key}"\n')
    write(tmp_path, "myenv/pyvenv.cfg", "home = /usr/bin\n")  # a virtualenv, whatever its name
    write(tmp_path, "myenv/lib/site.py", f'K = "{key}"\n')
    write(tmp_path, "vendored.min.js", f'K = "{key}"\n')
    write(tmp_path, "app.py", f'K = "{key}"\n')
    assert rules(tmp_path, exclude=["fixtures/**", "*.min.js"]) == {("app.py", 1, "Bluum sandbox API key")}


def test_large_and_binary_files_are_skipped_and_counted(tmp_path: Path) -> None:
    key = sandbox_key()
    write(tmp_path, "big.py", f'K = "{key}"\n' + "# filler\n" * 2000)
    (tmp_path / "blob.bin").write_bytes(b"\0\1\2" + f'K = "{key}"'.encode())
    result = scan(["."], cwd=tmp_path, max_file_bytes=4096)
    assert result.findings == []
    assert result.skipped_large == ["big.py"] and result.skipped_binary == 1 and result.files_scanned == 0


def test_the_result_says_how_much_it_scanned_in_files_lines_and_bytes(tmp_path: Path) -> None:
    write(tmp_path, "app.py", "x = 1\ny = 'é'\n")  # 15 bytes (é is two), 2 lines
    write(tmp_path, "notes.md", "no newline at the end")  # 21 bytes, 1 line
    write(tmp_path, "big.py", "# filler\n" * 2000)  # skipped: not counted
    (tmp_path / "blob.bin").write_bytes(b"\0" * 64)  # skipped: not counted
    result = scan(["."], cwd=tmp_path, max_file_bytes=4096)
    assert (result.files_scanned, result.lines_scanned, result.bytes_scanned) == (2, 3, 36)
    shown = result.evidence()
    assert (shown["files_scanned"], shown["lines_scanned"], shown["bytes_scanned"]) == (2, 3, 36)


def test_inline_allowlist_pragma(tmp_path: Path) -> None:
    write(tmp_path, "example.py", f'K = "{sandbox_key()}"  # pragma: allowlist secret\n')
    result = scan(["."], cwd=tmp_path)
    assert result.findings == [] and result.files_scanned == 1


def test_a_missing_scan_path_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="scan.paths: 'nope' does not exist"):
        scan(["nope"], cwd=tmp_path)


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


def test_in_a_git_work_tree_ignored_files_are_skipped_unless_asked(tmp_path: Path) -> None:
    _git(tmp_path, "init", "-q")
    write(tmp_path, ".gitignore", ".env\n")
    write(tmp_path, ".env", f"BLUUM_API_KEY={sandbox_key()}\n")
    write(tmp_path, "new_untracked.py", f'K = "{sandbox_key()}"\n')
    assert {f for (f, _, _) in rules(tmp_path)} == {"new_untracked.py"}
    assert {f for (f, _, _) in rules(tmp_path, include_ignored=True)} == {"new_untracked.py", ".env"}


def test_baseline_accepts_reviewed_findings_by_file_and_hash_even_when_lines_move(tmp_path: Path) -> None:
    key, other = sandbox_key(), sandbox_key()
    write(tmp_path, "a.py", f'K = "{key}"\n')
    baseline = tmp_path / ".secrets.baseline"
    assert write_baseline(scan(["."], cwd=tmp_path), baseline, cwd=tmp_path) == 1
    write(tmp_path, "a.py", f'# moved down\n\nK = "{key}"\nJ = "{other}"\n')
    result = scan(["."], cwd=tmp_path, baseline=baseline)
    assert [(f.file, f.line) for f in result.findings] == [("a.py", 4)]
    assert [(f.file, f.line) for f in result.accepted] == [("a.py", 3)]
    assert key not in baseline.read_text() and hash_secret(key) in baseline.read_text()


def test_baseline_entries_audited_as_real_secrets_stay_findings(tmp_path: Path) -> None:
    write(tmp_path, "a.py", f'K = "{sandbox_key()}"\n')
    baseline = tmp_path / ".secrets.baseline"
    write_baseline(scan(["."], cwd=tmp_path), baseline, cwd=tmp_path)
    document = json.loads(baseline.read_text())
    document["results"]["a.py"][0]["is_secret"] = True
    baseline.write_text(json.dumps(document))
    assert len(scan(["."], cwd=tmp_path, baseline=baseline).findings) == 1
    write_baseline(scan(["."], cwd=tmp_path, baseline=baseline), baseline, cwd=tmp_path)  # keeps the audit mark
    assert json.loads(baseline.read_text())["results"]["a.py"][0]["is_secret"] is True


def test_baseline_exclude_files_filter_is_honoured(tmp_path: Path) -> None:
    write(tmp_path, "tests/fake.py", f'K = "{sandbox_key()}"\n')
    write(tmp_path, "app.py", f'K = "{sandbox_key()}"\n')
    baseline = write(tmp_path, ".secrets.baseline", json.dumps({
        "filters_used": [{"path": "detect_secrets.filters.regex.should_exclude_files", "pattern": ["^tests/"]}],
        "results": {},
    }))  # fmt: skip
    assert {f.file for f in scan(["."], cwd=tmp_path, baseline=baseline).findings} == {"app.py"}


@pytest.mark.parametrize("text", ["not json", '{"results": []}', '{"results": {"a.py": [{"line_number": 1}]}}'])
def test_a_broken_baseline_is_a_config_error(tmp_path: Path, text: str) -> None:
    baseline = write(tmp_path, "b.json", text)
    with pytest.raises(ConfigError, match="is not a detect-secrets baseline"):
        scan(["."], cwd=tmp_path, baseline=baseline)


def test_scan_configured_uses_the_default_baseline_out_folder_and_accepts_the_configured_key_id(
    tmp_path: Path,
) -> None:
    key_id, accepted = sandbox_key(), sandbox_key()
    write(tmp_path, "bluum-readiness.toml", f'[credentials]\nsource = "command"\ncommand = "x"\nkey = "{key_id}"\n')
    write(tmp_path, "old.py", f'K = "{accepted}"\n')
    write_baseline(scan(["."], cwd=tmp_path), tmp_path / ".secrets.baseline", cwd=tmp_path)
    write(tmp_path, "out/report.json", f'"{sandbox_key()}"\n')
    config = RunConfig(credentials=CredentialsConfig(source="command", command=("x",), key=key_id), out="out")
    result = scan_configured(config, cwd=tmp_path)
    assert result.findings == [] and len(result.accepted) == 2
    missing = RunConfig(scan=ScanConfig(baseline="missing.baseline"))
    with pytest.raises(ConfigError, match="scan.baseline 'missing.baseline' does not exist"):
        scan_configured(missing, cwd=tmp_path)


def test_the_module_command_prints_findings_and_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    key = sandbox_key()
    write(tmp_path, "leak.py", f'KEY = "{key}"\n')
    monkeypatch.chdir(tmp_path)
    assert credentials_main(["scan"]) == 1
    out = capsys.readouterr().out
    assert "leak.py:1: Bluum sandbox API key" in out and key not in out
    assert credentials_main(["baseline"]) == 0
    assert credentials_main(["scan"]) == 0


@pytest.mark.parametrize(
    ("name", "text", "line"),
    [
        ("client.ts", "const BLUUM_API_SECRET = process.env.BLUUM_API_SECRET ||\n  '{hex}';\n", 2),
        ("client.js", "const secret = process.env.BLUUM_API_SECRET ??\n  `{hex}`;\n", 2),
        ("settings.py", 'BLUUM_API_SECRET = (\n    "{hex}"\n)\n', 2),
        ("settings.py", 'secret = os.environ.get("BLUUM_API_SECRET") or \\\n    "{hex}"\n', 2),
        ("main.go", 'var bluumSecret =\n\t"{hex}"\n', 2),
        ("main.go", 'bluumSecret :=\n\t"{hex}"\n', 2),
        ("Config.java", 'String s = env.getOrDefault("BLUUM_API_SECRET",\n        "{hex}");\n', 2),
        ("values.yaml", "bluum:\n  base_url: https://x\n  api_secret: {hex}\n", 3),
        ("values.yaml", "BLUUM_API_SECRET: >-\n  {hex}\n", 1),  # detect-secrets' YAML reading: the key's line
        ("client.ts", "const bluum = {{\n  apiKey: process.env.K,\n  apiSecret: '{hex}',\n}};\n", 3),
        ("client.ts", "export const pair = {{\n  key: 'test_bluum_{hex}',\n  secret: '{hex2}',\n}};\n", 3),
    ],
)
def test_the_bluum_secret_rule_sees_the_name_across_a_line_break(
    tmp_path: Path, name: str, text: str, line: int
) -> None:
    write(tmp_path, name, text.format(hex=secrets.token_hex(32), hex2=secrets.token_hex(32)))
    assert (name, line, "Bluum API secret") in rules(tmp_path)


@pytest.mark.parametrize(
    "text",
    [
        "const BLUUM_API_SECRET_NAME = 'bluum'; // ||\nconst checksum = '{hex}';\n",  # the name line ends
        "const bluum = {{}};\nconst digest = '{hex}';\n",  # not inside the bluum block, names no secret
        "config:\n  bluum: true\nchecksums:\n  sha256: {hex}\n",
        "const bluum = {{ a: 1 }};\n  }}\n    secret: '{hex}'\n",  # a closing brace is no enclosing key
    ],
)
def test_a_hex_digest_near_a_bluum_name_is_not_a_bluum_secret(tmp_path: Path, text: str) -> None:
    write(tmp_path, "file.ts" if "const" in text else "file.yaml", text.format(hex=secrets.token_hex(32)))
    assert "Bluum API secret" not in {r for (_, _, r) in rules(tmp_path)}


@pytest.mark.parametrize(
    ("name", "text"),
    [
        # the fault proxy's record (`--record`): a body's digest beside the (masked) key id that sent it
        (
            "exchanges.jsonl",
            '{{"auth_key_id": "test_bluum_6956c5\u202694df", "body_sha256": "{hex}", "status": 200}}\n',
        ),
        ("attachment.json", '{{\n  "auth_key_id": "test_bluum_6956c5\u202694df",\n  "body_sha256": "{hex}"\n}}\n'),
        ("requirements.txt", "bluum-client==1.2.0 --hash=sha256:{hex}\n"),
        ("settings.py", 'BLUUM_SDK_CHECKSUM = "sha256:{hex}"\n'),
    ],
)
def test_a_value_its_own_label_calls_a_digest_is_no_finding(tmp_path: Path, name: str, text: str) -> None:
    write(tmp_path, name, text.format(hex=secrets.token_hex(32)))
    assert rules(tmp_path) == set()


@pytest.mark.parametrize(
    "text",
    [
        'BLUUM_API_SECRET = "{hex}"  # its sha256: is checked at start-up\n',
        '{{"body_sha256": "{hex2}", "bluum_api_secret": "{hex}"}}\n',
        'BLUUM_API_SECRET = "{hex}"; SECRET_DIGEST = "{hex}"\n',  # the same value also labelled a digest: kept
    ],
)
def test_a_secret_beside_a_digest_label_is_still_found(tmp_path: Path, text: str) -> None:
    write(tmp_path, "app.py", text.format(hex=secrets.token_hex(32), hex2=secrets.token_hex(32)))
    assert ("app.py", 1, "Bluum API secret") in rules(tmp_path)


@pytest.mark.parametrize(
    "line",
    [
        "const AUTH_KEY = 'bluum_auth_key';",
        'export const TOKEN_STORAGE_KEY = "bluum.session.token";',
        "const API_KEY_HEADER = 'X-Api-Key';",
        'SIGNATURE_HEADER = "X-Bluum-Signature"',
        'REFRESH_TOKEN = "refresh_token"',
        'password_field = "password"',
        'apiSecret: "your-api-secret",',
        "const BLUUM_API_KEY = process.env.BLUUM_API_KEY!;",
        'fixture_id = "inv_01hzx3v5k8q2w9m4t7r6y1n0pb"',
        'const fixture = {"path": "/v1/investors/inv_01m992zdbypm5ymtc31k4ankw6/deposits"};',
        '{"path": "/v1/investors/inv_01m992zdbypm5ymtc31k4ankw6/orders/ord_01m992zdg6rpy7q810f871cft2"}',
    ],
)
def test_labels_references_and_bluum_ids_are_not_secrets(tmp_path: Path, line: str) -> None:
    write(tmp_path, "app.ts", line + "\n")
    assert rules(tmp_path) == set()


@pytest.mark.parametrize(
    "value",
    [
        "Wq8sLk2mN9xPz4Rt/inv_01m992zdbypm5ymtc31k4ankw6",  # a segment that is no word: still a finding
        "/v1/investors/deposits/QmZpTxRkWbYcXdVfAbCdEfGh12",  # no Bluum id in it
    ],
)
def test_a_path_is_excused_only_when_it_names_bluum_resources_and_nothing_else(tmp_path: Path, value: str) -> None:
    write(tmp_path, "app.ts", f'const where = "{value}";\n')
    assert {r for (_, _, r) in rules(tmp_path)} == {"Base64 High Entropy String"}


@pytest.mark.parametrize(
    "line",
    [
        'password = "hunter2-Corr3ct-h0rse"',
        'secret_token = "Wq8sLk2mN9xPz4Rt"',
        'const secret = "QmZpTxRkWbYcXdVf"',
        'db_password = "password123"',
    ],
)
def test_a_keyword_value_that_is_not_word_like_is_still_a_finding(tmp_path: Path, line: str) -> None:
    write(tmp_path, "app.py", line + "\n")
    assert {r for (_, _, r) in rules(tmp_path)} == {"Secret Keyword"}


def test_a_fallback_default_inside_a_call_is_found(tmp_path: Path) -> None:
    write(tmp_path, "settings.py", f'KEY = os.environ.get("BLUUM_API_KEY", "{sandbox_key()}")\n')
    write(tmp_path, "other.py", 'secret = get_secret("bluum")\npassword = request.headers["x-password"]\n')
    assert rules(tmp_path) == {("settings.py", 1, "Bluum sandbox API key")}


def test_one_finding_per_line_and_secret_under_the_most_specific_rule(tmp_path: Path) -> None:
    write(tmp_path, "settings.py", f'BLUUM_API_SECRET = "{secrets.token_hex(32)}"\n')
    assert rules(tmp_path) == {("settings.py", 1, "Bluum API secret")}  # not also Hex High Entropy, Keyword
