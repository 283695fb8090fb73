"""The sweep, kept: generated command lines, configuration files and report files never end in a traceback.

Every example runs ``bluum-readiness`` in-process (``cli.main.main``) in a fresh folder and must end with one of the
documented exit codes (0, 1, 2, 3, 130; argparse's usage errors are 2) and nothing on stderr that looks like a
traceback. What these examples would start — a whole readiness run — is cut short where the command line and the
configuration have been checked: ``cli.run._resolved`` raises ``WouldRun`` (the arguments were accepted), so an
example costs milliseconds. Targets are never a host that resolves over the network (only 127.0.0.1, closed ports,
and texts that are no URL), paths are relative to the example's own folder, and ``exec:`` never names a program that
exists: nothing here leaves the machine or starts a process.

Bounds (docs/reliability.md): ``derandomize=True`` (a fixed seed: the same examples in every run), no example
database, and ``max_examples`` chosen so the whole file costs a few seconds. ``BLUUM_FUZZ_EXAMPLES=2000`` runs that
many random examples per test instead (a deeper local sweep).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bluum_readiness.cli.main import main
from bluum_readiness.report.digest import recompute
from tests.report.conftest import write_run

EXIT_CODES = {0, 1, 2, 3, 130}
DEEPER = int(os.environ.get("BLUUM_FUZZ_EXAMPLES", "0"))  # a deeper local sweep: that many examples per test, random
FUZZ = settings(
    derandomize=not DEEPER,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


class WouldRun(Exception):
    """The command line and configuration were accepted: the run would start here."""


@contextlib.contextmanager
def _example_folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="bluum-fuzz-") as name, contextlib.chdir(name):
        yield Path(name)


@contextlib.contextmanager
def _no_run_no_network() -> Iterator[None]:
    def would_run(config: Any) -> Any:
        raise WouldRun

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("bluum_readiness.cli.run._resolved", would_run)
        for name in ("BLUUM_API_KEY", "BLUUM_API_SECRET", "BLUUM_BASE_URL"):
            patch.delenv(name, raising=False)
        yield


def invoke(argv: list[str]) -> tuple[int | str, str]:
    """(exit code, or "would run"; stderr) of ``bluum-readiness ARGV``; any other exception fails the example."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code: int | str = main(argv)
        except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
            code = exc.code if isinstance(exc.code, int) else 2
        except WouldRun:
            code = "would run"
    return code, err.getvalue()


def assert_clean(argv: list[str], code: int | str, err: str) -> None:
    assert code == "would run" or code in EXIT_CODES, (argv, code, err[-2000:])
    assert "Traceback (most recent call last)" not in err, (argv, err[-3000:])
    if code == 2 and err.startswith("bluum-readiness: error: "):
        assert len(err.strip().splitlines()) == 1, (argv, err)  # our usage errors are one line


@pytest.fixture(scope="module")
def real_report(tmp_path_factory: pytest.TempPathFactory) -> str:
    return write_run(tmp_path_factory.mktemp("real"), failing=True).read_text()


# -- values ----------------------------------------------------------------------------------------------------------

# what a shell can pass: any text but NUL (argv cannot hold one) and lone surrogates
ARG_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30)
EDGES = st.sampled_from(
    ["", " ", "-", "--", "nan", "inf", "-inf", "-1", "0", "1", "2", "99999", "1e309", "9" * 5000, "x" * 300,
     "auto", "embedded", "é", "\u202e", "..", ".", "./", "a/b/c", "~", "%s", "{}", "[", "\\"]
)  # fmt: skip
VALUE = st.one_of(EDGES, ARG_TEXT)
RELATIVE = st.one_of(
    st.sampled_from(["out", "a/b/c", "x" * 300, "/".join(["y" * 200] * 25), "é", "out/readiness.json", ""]),
    st.text(st.characters(whitelist_categories=("Ll", "Lu", "Nd"), whitelist_characters="-_ ."), min_size=1,
            max_size=20).filter(lambda s: s.strip(".") != ""),
)  # fmt: skip
TARGETS = st.one_of(
    st.sampled_from(
        ["embedded", "embeded", "http://127.0.0.1:9/v1", "https://127.0.0.1:9/v1", "http://127.0.0.1:9",
         "http://[::1/v1", "http://127.0.0.1:99999/v1", "http://127.0.0.1:x/v1", "ftp://127.0.0.1/v1", "http:///v1",
         "http://127.0.0.1:9/v1?x=1", "http://a b/v1", ""]
    ),
    ARG_TEXT.filter(lambda s: "://" not in s),
)  # fmt: skip
INTEGRATIONS = st.one_of(
    st.sampled_from(
        ["bluum_readiness.reference:create_fast", "bluum_readiness.reference:nope", "bluum_readiness.reference",
         "no_such_module_zz:create", "./nope.py:create", "nope.py:create", "a/b.py:create", "exe:x", "EXEC:x",
         "exec:", "exec:no-such-program-zz --flag", "exec:'unclosed", "exec:./no-such-file", ":", "a:", ":b",
         "json:dumps", "json:JSONDecodeError.nope", "os.path:join"]
    ),
    ARG_TEXT.filter(lambda s: not s.strip().lower().startswith("exec")),
)  # fmt: skip
ITEMS = st.sampled_from(["lifecycle", "idempotency", "webhooks", "observability", "lifecycel", "", "*", "all"])


def _run_args() -> st.SearchStrategy[list[str]]:
    option = st.one_of(
        st.tuples(st.just("--target"), TARGETS),
        st.tuples(st.just("--integration"), INTEGRATIONS),
        st.tuples(st.just("--only"), st.one_of(ITEMS, VALUE)),
        st.tuples(st.just("-n"), st.one_of(VALUE, st.integers(-5, 10**6).map(str))),
        st.tuples(st.just("--out"), RELATIVE),
        st.tuples(st.just("--config"), RELATIVE),
        st.tuples(st.sampled_from(["--bogus", "--help", "-x", "--only=", "--out="]), st.just("")),
    )
    return st.lists(option, max_size=5).map(lambda pairs: ["run", *[t for pair in pairs for t in pair if t != ""]])


def _other_args() -> st.SearchStrategy[list[str]]:
    report = st.tuples(
        st.just("report"),
        st.one_of(RELATIVE, st.just("valid.json")),
        st.lists(
            st.one_of(
                st.just(("--verify",)),
                st.tuples(st.just("--out"), RELATIVE),
                st.tuples(st.just("--config"), RELATIVE),
                st.just(("--bogus",)),
            ),
            max_size=3,
        ),
    ).map(lambda t: [t[0], t[1], *[x for group in t[2] for x in group]])
    init = st.tuples(
        st.just("init"),
        st.lists(
            st.one_of(
                st.tuples(st.just("--dir"), RELATIVE), st.tuples(st.just("--lang"), st.one_of(VALUE, st.just("node")))
            ),
            max_size=3,
        ),
    ).map(lambda t: [t[0], *[x for group in t[1] for x in group]])
    smoke = st.tuples(
        st.just("smoke"),
        st.lists(
            st.one_of(st.tuples(st.just("--target"), TARGETS), st.tuples(st.just("--timeout"), VALUE)), max_size=3
        ),
    ).map(lambda t: [t[0], *[x for group in t[1] for x in group]])
    junk = st.lists(VALUE, max_size=3)
    return st.one_of(report, init, smoke, junk)


@settings(FUZZ, max_examples=DEEPER or 100)
@given(argv=st.one_of(_run_args(), _other_args()))
@example(argv=["run", "-n", "9" * 5000])  # found by the sweep: int() of a 5,000-digit -n
@example(argv=["run", "-n", "²"])  # a digit to str.isdigit, not to int()
@example(argv=["report", "x" * 300])  # a report path longer than the system allows
def test_generated_command_lines_end_in_a_documented_exit_code_without_a_traceback(
    real_report: str, argv: list[str]
) -> None:
    with _example_folder() as folder, _no_run_no_network():
        (folder / "valid.json").write_text(real_report)
        code, err = invoke(argv)
    assert_clean(argv, code, err)


# -- configuration files ---------------------------------------------------------------------------------------------

KNOWN = {
    "": ["target", "integration", "only", "workers", "out", "rate_limit_per_s", "seed"],
    "credentials": ["source", "key", "key_env", "secret_env", "path", "command", "secret_id", "rotation_period_days"],
    "thresholds": ["request_timeout_s", "max_attempts", "max_backoff_s", "backoff_trials", "settle_timeout_s",
                   "webhook_scheme", "webhook_tolerance_s", "alert_timeout_s"],
    "webhooks": ["url", "secret_env", "secret_file", "secret_command", "ca_file", "scheme", "tolerance_s"],
    "scan": ["paths", "exclude", "baseline", "max_file_kb", "history", "history_depth"],
    "company": ["name", "dashboard_email", "product_description", "integration_model"],
    "rotation": ["source", "key_env", "secret_env"],
}  # fmt: skip
SCALARS = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.sampled_from([0, 1, 2, -1, 10**6, 2**63 - 1]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.text(max_size=20),
    st.sampled_from(["embedded", "env", "file", "command", "aws", "auto", "https://127.0.0.1:9/v1", "exec:nope-zz",
                     "bluum_readiness.reference:create_fast", "standard-webhooks", "a@b", "*.py", "\x00", "\x1b"]),
)  # fmt: skip
TOML_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=6,
)


def toml(value: Any) -> str:
    """A TOML value (inline): JSON strings are TOML basic strings once non-ASCII is kept as is."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value:
            return "nan"
        return {float("inf"): "inf", float("-inf"): "-inf"}.get(value, repr(value))
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, list):
        return "[" + ", ".join(toml(v) for v in value) + "]"
    return "{" + ", ".join(f"{json.dumps(k, ensure_ascii=False)} = {toml(v)}" for k, v in value.items()) + "}"


@st.composite
def config_files(draw: st.DrawFn) -> bytes:
    sections: dict[str, dict[str, Any]] = {}
    for section, keys in KNOWN.items():
        if section and not draw(st.booleans()):
            continue
        chosen = draw(st.lists(st.one_of(st.sampled_from(keys), st.text(min_size=1, max_size=8)), max_size=4))
        sections[section] = {key: draw(TOML_VALUES) for key in chosen}
    lines = [f"{json.dumps(k, ensure_ascii=False)} = {toml(v)}" for k, v in sections.pop("", {}).items()]
    for section, values in sections.items():
        lines.append(f"[{section}]")
        lines += [f"{json.dumps(k, ensure_ascii=False)} = {toml(v)}" for k, v in values.items()]
    text = "\n".join(lines) + "\n"
    damage = draw(st.sampled_from(["none", "none", "truncate", "bytes", "deep"]))
    if damage == "truncate":
        return text.encode()[: draw(st.integers(0, len(text)))]
    if damage == "bytes":
        return draw(st.binary(max_size=60)) + text.encode()
    if damage == "deep":
        depth = draw(st.sampled_from([50, 2000]))
        return (text + "deep = " + "[" * depth + "]" * depth + "\n").encode()
    return text.encode()


@settings(FUZZ, max_examples=DEEPER or 100)
@given(content=config_files(), where=st.sampled_from(["bluum-readiness.toml", "pyproject.toml", "--config"]))
@example(content=b'[rotation]\n"\\r" = "\\u001f"\n', where="bluum-readiness.toml")  # a control character in a key
def test_generated_config_files_end_in_a_documented_exit_code_without_a_traceback(content: bytes, where: str) -> None:
    with _example_folder() as folder, _no_run_no_network():
        if where == "pyproject.toml":
            body = content.replace(b"\n[", b"\n[tool.bluum-readiness.")
            (folder / "pyproject.toml").write_bytes(b"[tool.bluum-readiness]\n" + body)
            argv = ["run", "--out", "out"]
        else:
            name = "bluum-readiness.toml" if where == "bluum-readiness.toml" else "team.toml"
            (folder / name).write_bytes(content)
            argv = ["run", "--out", "out"] + (["--config", name] if where == "--config" else [])
        code, err = invoke(argv)
    assert_clean(argv, code, err)


# -- report files ----------------------------------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.sampled_from([10**30, -1, 0, 2**64]),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=20),
        st.sampled_from(["passed", "failed", "broken", "not_verifiable", "skipped", "ready", "not_ready", "required",
                         "</details>", "| x |", "`", "<script>", "\u202e", "%PDF"]),
    ),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=5,
)  # fmt: skip


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, inner in value.items():
            found += _paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += _paths(inner, (*prefix, index))
    return found


@st.composite
def report_files(draw: st.DrawFn) -> tuple[Any, bool]:
    """(a mutation of a real run's readiness.json, whether its digest is recomputed so it verifies and renders)."""
    return draw(st.lists(st.tuples(st.integers(0, 10**6), st.sampled_from(["set", "delete"]), JSON_VALUES),
                         min_size=1, max_size=3)), draw(st.booleans())  # fmt: skip


def _mutated(document: dict[str, Any], mutations: list[tuple[int, str, Any]]) -> dict[str, Any]:
    for pick, how, value in mutations:
        paths = [p for p in _paths(document) if p]
        path = paths[pick % len(paths)]
        parent: Any = document
        for step in path[:-1]:
            parent = parent[step]
        if how == "delete" and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = value
    return document


@settings(FUZZ, max_examples=DEEPER or 40)
@given(mutation=report_files(), verify=st.booleans())
def test_generated_report_files_end_in_a_documented_exit_code_without_a_traceback(
    real_report: str, mutation: tuple[Any, bool], verify: bool
) -> None:
    mutations, redigest = mutation
    document = _mutated(json.loads(real_report), mutations)
    if redigest and isinstance(document.get("digest"), dict):
        with contextlib.suppress(Exception):  # a document the digest cannot cover is judged as it is
            document["digest"]["value"] = recompute(document)
    with _example_folder() as folder, _no_run_no_network():
        (folder / "readiness.json").write_text(json.dumps(document))
        argv = ["report", "--verify", "readiness.json"] if verify else ["report", "readiness.json", "--out", "out"]
        code, err = invoke(argv)
    assert_clean(argv, code, err)


@settings(FUZZ, max_examples=DEEPER or 30)
@given(cut=st.integers(0, 10**6), garbage=st.binary(max_size=40), how=st.sampled_from(["truncate", "prefix", "infix"]))
def test_damaged_report_bytes_are_not_a_report_in_one_line(
    real_report: str, cut: int, garbage: bytes, how: str
) -> None:
    raw = real_report.encode()
    at = cut % (len(raw) + 1)
    damaged = {"truncate": raw[:at], "prefix": garbage + raw, "infix": raw[:at] + garbage + raw[at:]}[how]
    with _example_folder() as folder, _no_run_no_network():
        (folder / "readiness.json").write_bytes(damaged)
        argv = ["report", "--verify", "readiness.json"]
        code, err = invoke(argv)
    assert_clean(argv, code, err)
