"""The Go and Java starters as the tests build them: written by ``init --lang``, the example filled in as the docs
say (the line the starter's own comment gives), and known-bad variants of that example (one line changed each),
compiled once per test session into a cache shared by the xdist workers.

A toolchain that is missing skips these tests with the reason, except in CI (``CI`` set), where it fails: `.ci/run`
installs golang-go and a JDK, so there they always run.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from bluum_readiness.cli.init import STARTERS

#: The line of integration() that makes an untouched starter answer TODO errors.
TODO_LINES = {
    "go": "return nil, nil // TODO: your client and webhook handler (see above)",
    "java": "return new Integration(null, null); // TODO: your client and webhook handler (see above)",
}
#: Where the starter's comment says how to use its example (the docs quote the same line).
EXAMPLE_PATTERNS = {
    "go": r"//\treturn (NewExampleClient\(env\), NewExampleReceiver\(env\))\n",
    "java": r"\{@code (return new Integration\(new ExampleClient\(env\), new ExampleReceiver\(env\)\);)\}",
}


@dataclass(frozen=True)
class Edit:
    """One line of the example changed: ``old`` must occur exactly once in the starter."""

    old: str
    new: str


# variant -> language -> the one change that makes the example known-bad
# fmt: off
KNOWN_BAD: dict[str, dict[str, Edit]] = {
    "no-withdrawal-key": {
        "go": Edit('if method == "POST" {', 'if method == "POST" && !strings.HasSuffix(path, "/withdrawals") {'),
        "java": Edit('if (method.equals("POST")) {', 'if (method.equals("POST") && !path.endsWith("/withdrawals")) {'),
    },
    "no-5xx-retry": {
        "go": Edit(
            "case retryable(status) && attempt < c.maxAttempts:", "case status == 429 && attempt < c.maxAttempts:"
        ),
        "java": Edit(
            "if (retryable(status) && attempt < maxAttempts) {", "if (status == 429 && attempt < maxAttempts) {"
        ),
    },
    # a dropped connection (a reset, an EOF) is reported to the caller as failed: only timeouts are retried
    "gives-up-on-reset": {
        "go": Edit(
            "if attempt < c.maxAttempts {",
            "if ne, ok := err.(interface{ Timeout() bool }); ok && ne.Timeout() && attempt < c.maxAttempts {",
        ),
        "java": Edit(
            "if (attempt < maxAttempts) {", "if (err instanceof HttpTimeoutException && attempt < maxAttempts) {"
        ),
    },
    "unverified-webhooks": {
        "go": Edit(
            'if problem := verifySignature(secret, req.Header, payload, time.Now()); problem != "" {',
            'if problem := ""; problem != "" {',
        ),
        "java": Edit(
            "String problem = verifySignature(secret, exchange, body, Instant.now().getEpochSecond());",
            "String problem = null;",
        ),
    },
}
# fmt: on

TOOLCHAINS = {"go": ("go",), "java": ("javac", "java")}
JAVAC_FLAGS = ("-Xlint:all", "-Werror")
#: javac's own JVM without the optimising JIT: a compile of a few thousand lines ends before C2 would pay off (half
#: the CPU: ~1.1 against ~2.2 s for one starter); the classes are the same.
JAVAC_JVM = ("-J-XX:TieredStopAtLevel=1",)


def require_toolchain(lang: str) -> None:
    """Skip (outside CI) or fail (in CI) when the language's toolchain is not on PATH."""
    missing = [tool for tool in TOOLCHAINS[lang] if shutil.which(tool) is None]
    if not missing:
        if lang == "go" and not any(os.environ.get(v) for v in ("GOCACHE", "XDG_CACHE_HOME", "HOME")):
            os.environ["GOCACHE"] = str(_cache_root() / "gocache")  # go refuses to build without a cache folder
        return
    install = "apt-get install golang-go" if lang == "go" else "apt-get install openjdk-17-jdk-headless"
    reason = f"{' and '.join(missing)} not on PATH: the {lang} starter cannot be built here ({install})"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; .ci/run installs it, so in CI these tests must run")
    pytest.skip(reason)


def starter_text(lang: str) -> str:
    return STARTERS[lang].adapter_text()


def example_line(lang: str) -> str:
    """The line the starter's comment says to put in integration() to use its example client and receiver."""
    match = re.search(EXAMPLE_PATTERNS[lang], starter_text(lang))
    assert match, f"the {lang} starter no longer says how to use its example"
    return match.group(1) if lang == "java" else f"return {match.group(1)}"


def apply(text: str, edit: Edit) -> str:
    assert text.count(edit.old) == 1, f"expected {edit.old!r} once in the starter"
    return text.replace(edit.old, edit.new)


def with_example(text: str, lang: str) -> str:
    return apply(text, Edit(TODO_LINES[lang], example_line(lang)))


def _variants(lang: str) -> dict[str, str]:
    good = with_example(starter_text(lang), lang)
    return {"": good} | {name: apply(good, edits[lang]) for name, edits in KNOWN_BAD.items()}


def _cache_root() -> Path:
    return Path(tempfile.gettempdir()) / f"bluum-readiness-starters-{os.getuid()}"


def build(lang: str) -> dict[str, str]:
    """variant ("" for the example as given) -> the command that runs it, built once per starter text (a cache
    keyed on the sources, shared by concurrent workers: a finished build is renamed into place)."""
    require_toolchain(lang)
    variants = _variants(lang)
    key = "\0".join([*JAVAC_FLAGS, *(f"{k}\0{v}" for k, v in sorted(variants.items()))])
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    root = _cache_root()
    root.mkdir(mode=0o700, exist_ok=True)
    done = root / f"{lang}-{digest}"
    if not done.exists():
        work = Path(tempfile.mkdtemp(prefix=f"{lang}-", dir=root))
        (_build_go if lang == "go" else _build_java)(work, variants)
        try:
            work.rename(done)
        except OSError:  # another worker finished first: use its build
            shutil.rmtree(work, ignore_errors=True)
    if lang == "go":
        return {name: str(done / (_slug(name) or "good") / "bluum-adapter") for name in variants}
    # the flags init puts in the config: a JVM that lives for one check starts faster without the optimising JIT
    java = "java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
    return {name: f"{java} -cp {done / 'build'} {_java_class(name)}" for name in variants}


def _slug(variant: str) -> str:
    return variant.replace("-", "_")


def _build_go(work: Path, variants: dict[str, str]) -> None:
    builds = []
    for name, text in variants.items():
        folder = work / (_slug(name) or "good")
        folder.mkdir()
        (folder / "bluum_adapter.go").write_text(text, encoding="utf-8")
        builds.append(subprocess.Popen(["go", "build", "-o", "bluum-adapter", "bluum_adapter.go"], cwd=folder,
                                       stderr=subprocess.PIPE, text=True))  # fmt: skip
    for process in builds:
        _, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, f"go build failed:\n{stderr}"


def _java_class(variant: str) -> str:
    return "BluumAdapter" + "".join(part.title() for part in variant.split("-"))


def _build_java(work: Path, variants: dict[str, str]) -> None:
    sources = []
    for name, text in variants.items():
        cls = _java_class(name)
        source = work / f"{cls}.java"
        source.write_text(apply(text, Edit("public final class BluumAdapter {", f"public final class {cls} {{")))
        sources.append(str(source))
    javac = ["javac", *JAVAC_JVM, *JAVAC_FLAGS, "-d", str(work / "build"), *sources]
    compiled = subprocess.run(javac, capture_output=True, text=True, timeout=300)
    assert compiled.returncode == 0, f"javac failed:\n{compiled.stderr}"
