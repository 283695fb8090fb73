"""Checks of the ``credentials`` item: no secret in the code or config, credentials from a source, key age.

- ``no-secrets-in-code``: the secret scan (``bluum_readiness.credentials.scan``) of ``[scan] paths`` and, in a git
  repository, of the lines every commit HEAD reaches added there (``[scan] history``). A finding fails it wherever
  it was found; with none, a history that could not be read in full (or no git history at all) makes it not
  verifiable, never a pass;
- ``secret-source``: the config file holds no literal secret, and the integration takes its pair from
  ``IntegrationEnv.credentials`` — the suite hands it a fresh pair and reads which key its requests carry;
- ``key-age``: the team's key pair is younger than the rotation period, on the date the team declares
  (``[credentials] key_created``), recorded as declared (provenance ``declared``): Bluum's API does not expose
  it, and the twin knows only when the run began. Without a declaration it is not verifiable, but for the
  demonstration (the reference on the twin's own pair), judged on the twin's listing.
"""

from __future__ import annotations

import secrets
import stat
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bluum_readiness.checks._support import require_traffic
from bluum_readiness.checks.judge import Facts, Finding, Unjudged, Verdict, judged
from bluum_readiness.checks.observation import Scene, scenario
from bluum_readiness.credentials.scan import Finding as ScanFinding
from bluum_readiness.credentials.scan import HistoryFinding, ScanResult, scan_configured_ahead
from bluum_readiness.integration import Credentials
from bluum_readiness.suite.identity import is_reference
from bluum_readiness.testing import investor_profile

if TYPE_CHECKING:
    from bluum_readiness.config import CredentialsConfig
    from bluum_readiness.harness import Harness

ITEM = "credentials"
SHOWN_FINDINGS = 10
MIN_SECRET_CHARS = 8
_PROBE_INVESTOR = "inv_" + "0" * 26  # well-formed and unknown: against a real target the 401 comes first


# -- no secrets in the code ---------------------------------------------------------------------------------


def _listing(findings: list[ScanFinding] | list[HistoryFinding]) -> str:
    shown = "; ".join(str(f) for f in findings[:SHOWN_FINDINGS])
    more = len(findings) - SHOWN_FINDINGS
    return shown + (f"; and {more} more (see the evidence)" if more > 0 else "")


def _size(count: int) -> str:
    """A byte count for people: ``512 bytes``, ``3.4 KB``, ``1.2 MB``."""
    if count < 1024:
        return f"{count} byte{'s' * (count != 1)}"
    return f"{count / 1024:.1f} KB" if count < 1024 * 1024 else f"{count / (1024 * 1024):.1f} MB"


def _files(result: ScanResult) -> str:
    return f"the {result.files_scanned} scanned files ({result.lines_scanned} lines, {_size(result.bytes_scanned)})"


def _scanned(result: ScanResult) -> str:
    history = result.history
    files = _files(result)
    if not history.ran:
        return f"{files} (git history not scanned: {history.status})"
    more = f", the newest {history.depth} of more" if history.more_than_depth else ""
    commits = (
        f"the {history.commits} commits of their git history{more}"
        if history.complete
        else f"{history.commits_judged} of the {history.commits} commits of their git history (read only in part)"
    )
    return f"{files} and {commits} ({history.added_lines} added lines, {_size(history.added_bytes)})"


def _observed(result: ScanResult) -> str:
    parts = []
    if result.findings:
        parts.append(f"{len(result.findings)} potential secret(s) in the files: {_listing(result.findings)}")
    if result.history_findings:
        parts.append(
            f"{len(result.history_findings)} in git history, no longer in the files: "
            f"{_listing(result.history_findings)}"
        )
    return "; ".join(parts)


def _fix(result: ScanResult) -> str:
    steps = []
    if result.findings:
        steps.append("remove each secret from the files and read it from your secret source instead")
    if result.committed:
        steps.append(
            "a secret that was ever committed is compromised (anyone with a clone can read it): rotate the pair now "
            "— a new pair in the Bluum dashboard, deployed to your secret source, then revoke the old one "
            "(docs/rotation-runbook.md) — and only then, if your policy requires it, rewrite the history "
            "(git filter-repo); rewriting alone does not take it back from existing clones"
        )
    else:
        steps.append("rotate any real key that was shared")
    steps.append(
        "a reviewed false positive gets a `# pragma: allowlist secret` comment on its line, or goes into "
        ".secrets.baseline (`python -m bluum_readiness.credentials baseline`, which records history findings too)"
    )
    return "; ".join(steps)


@scenario("secret-scan", facts=("scan",))
def _secret_scan(s: Scene) -> None:
    """The secret scan of ``[scan] paths`` and their git history (started ahead by the plugin when the run includes
    this item): what it found, how much it read, and what it could not judge — as the texts a finding shows."""
    result = scan_configured_ahead(s.h.config)
    s.evidence("secret_scan", result.evidence())
    unjudged = result.history.not_judged
    if unjudged is not None and not (result.findings or result.history_findings):
        s.observation.evidence["secret_scan"]["history"]["not_verifiable"] = unjudged
    s.fact(
        "scan",
        {
            "found": bool(result.findings or result.history_findings),
            "scanned": _scanned(result),
            "observed": _observed(result),
            "fix": _fix(result),
            "bytes": result.bytes_scanned,
            "files": result.files_scanned,
            "files_text": _files(result),
            "paths": list(result.paths),
            "history_unjudged": unjudged,
        },
    )


@judged(
    "credentials.no-secrets-in-code",
    item=ITEM,
    title="No API key or secret in the code, config files or git history (secret scan)",
    needs=("secret-scan.scan",),
    static=True,
)
def no_secrets_in_code(facts: Facts) -> Verdict:
    scan: dict[str, Any] = facts["secret-scan.scan"]
    if scan["found"]:
        return Finding(
            "secret-in-code",
            f"no API key, secret or other credential in {scan['scanned']}",
            scan["observed"],
            scan["fix"],
        )
    if scan["bytes"] == 0:  # a scan of nothing is not a pass, whatever the history held
        count = scan["files"]
        found = "no files to scan" if count == 0 else f"only {count} empty file{'s' * (count != 1)} to scan"
        return Unjudged(
            f"the secret scan found {found} in {', '.join(scan['paths'])} (0 bytes scanned): run from your project's "
            "folder or name your code and config folders in [scan] paths"
        )
    if scan["history_unjudged"] is not None:  # the files are clean; the history is not judged as a whole
        return Unjudged(
            f"git history: {scan['history_unjudged']}; the files judged alone hold no secret ({scan['files_text']})"
        )
    return None


# -- credentials from a source ------------------------------------------------------------------------------


def _describe_source(source: CredentialsConfig) -> dict[str, Any]:
    """The configured source, without anything secret."""
    described: dict[str, Any] = {"source": source.source}
    if source.source == "env":
        described |= {"key_env": source.key_env, "secret_env": source.secret_env, "set": source.configured_in_env()}
    elif source.source == "file" and source.path:
        path = Path(source.path).expanduser()
        described["path"] = source.path
        if path.exists():
            described["mode"] = f"{stat.S_IMODE(path.stat().st_mode):o}"
    elif source.source == "command" and source.command:
        described["command"] = source.command[0]
    elif source.source == "aws":
        described |= {"secret_id": source.secret_id, "region": source.region}
    return described


def _literal_in_config(h: Harness) -> str | None:
    """The first line (``path:line``) of the run's config file holding the secret in use, or None. Secrets
    shorter than ``MIN_SECRET_CHARS`` are not searched for (they would match ordinary text)."""
    file = h.config.source_file
    if file is None or not file.is_file():
        return None
    pair = h.credentials.current
    if len(pair.secret) < MIN_SECRET_CHARS:
        return None
    token = pair.basic_token()
    for number, line in enumerate(file.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
        if pair.secret in line or token in line:
            return f"{file}:{number}"
    return None


def _fresh_pair(h: Harness) -> tuple[Credentials, Callable[[], None]]:
    """A pair the integration has never seen, and how to retire it. Twin: a real new tenant pair (so the
    secret is proven too); elsewhere: a well-formed unknown pair (its requests get 401s; only the key id counts)."""
    if h.target.twin:
        made = h.sandbox("POST", "/api-keys", json={"name": "bluum-readiness secret-source probe"})
        return Credentials(made["key"], made["secret"]), lambda: h.sandbox("POST", f"/api-keys/{made['id']}/revoke")
    return Credentials(f"test_bluum_{secrets.token_hex(32)}", secrets.token_hex(32)), lambda: None


@scenario("secret-source", facts=("config_literal", "probe"))
def _secret_source(s: Scene) -> None:
    """Where the config file holds the secret in use (if it does); then a fresh pair handed to the integration's
    secret source, and which key its requests carried."""
    h = s.h
    s.evidence("credential_source", _describe_source(h.config.credentials))
    s.fact("config_literal", _literal_in_config(h))
    investor_id = h.call("POST", "/investors", json=investor_profile())["id"] if h.target.twin else _PROBE_INVESTOR
    original = h.credentials.current
    pair, retire = _fresh_pair(h)
    h.credentials.set(pair)
    try:
        mark = h.mark()
        outcome = h.invoke(lambda: s.integration.kyc_status(investor_id), timeout=h.thresholds.settle_timeout_s)
        exchanges = h.exchanges_since(mark)
    finally:
        h.credentials.set(original)
        retire()
    require_traffic(exchanges, outcome, "kyc_status()")
    if not exchanges:
        s.missing(
            "probe",
            f"kyc_status() sent no request (it {outcome.describe()}), so which credentials the integration uses "
            "cannot be seen",
        )
        return
    probe = {
        "handed_key": pair.key,
        "earlier_key": original.key,
        "keys_sent": sorted({x.auth_key_id or "(none)" for x in exchanges}),
        "statuses": [x.status for x in exchanges],
        "twin": h.target.twin,
    }
    s.evidence("probe", {k: probe[k] for k in ("handed_key", "keys_sent", "statuses")})
    s.fact("probe", probe)


@judged(
    "credentials.secret-source",
    item=ITEM,
    title="Credentials come from the configured source, not a literal",
    needs=("secret-source.config_literal", "secret-source.probe"),
)
def secret_source(facts: Facts) -> Verdict:
    literal = facts["secret-source.config_literal"]
    if literal is not None:
        return Finding(
            "secret-in-code",
            "the config file names where the secret comes from, never the secret itself",
            f"the API secret in use appears literally in the config file at {literal}",
            'remove it, rotate the pair, and use [credentials] source = "env", "file" (chmod 600), "command" '
            'or "aws" (docs/configuration.md)',
        )
    probe: dict[str, Any] = facts["secret-source.probe"]
    handed, used = probe["handed_key"], probe["keys_sent"]
    if used != [handed]:
        others = [k for k in used if k != handed]
        before = (
            " (the pair it was handed earlier: a cached or hard-coded pair)" if probe["earlier_key"] in others else ""
        )
        return Finding(
            "credentials-cached",
            f"every request carries the pair IntegrationEnv.credentials() returns now (key {handed})",
            f"after a new pair was handed over, its requests carried key {', '.join(others)}{before}",
            "read the key pair from your secret source (IntegrationEnv.credentials() in the adapter) when building "
            "the client and again after a 401; never hard-code or bundle a pair",
        )
    if probe["twin"] and 401 in probe["statuses"]:
        return Finding(
            "credentials-cached",
            "the secret of the handed pair with its key (the twin accepts the new pair)",
            "its requests carried the new key but were refused with 401: the secret came from elsewhere",
            "take the secret from the same source as the key (IntegrationEnv.credentials().secret)",
        )
    return None


# -- key age ------------------------------------------------------------------------------------------------


KEY_CREATED_SETTING = "[credentials] key_created"


@scenario("key-age", facts=("key",))
def _key_age(s: Scene) -> None:
    """The team's Bluum key pair and when it was created. No API shows that (Bluum's dashboard does), and the twin
    knows only when the run began — it adopts the team's pair then, or issues one of its own — so the check judges
    what the team declares, ``[credentials] key_created``, recorded as declared. Without a declaration it is not
    verifiable. One exception shows the check at work: the demonstration (the bundled reference integration on the
    twin's own pair) is judged on the twin's listing of the pair in use. The pairs the suite makes during a run
    (a 401 check's, the drill's) never stand in for the team's."""
    h = s.h
    period_days = h.config.credentials.rotation_period_days
    declared = h.config.credentials.key_created
    if declared is not None:
        # from the day's first moment (UTC): a declared day never makes the pair look younger than it is
        created = datetime(declared.year, declared.month, declared.day, tzinfo=UTC).timestamp()
        key, source = h.team_key, f"declared: {KEY_CREATED_SETTING}"  # None: the pair itself was not given
        s.evidence("declared", {"setting": KEY_CREATED_SETTING, "value": declared.isoformat()})
    elif h.team_key is None and h.target.twin and is_reference(h.config.integration):
        key = h.credentials.current.key
        entry = next((k for k in h.sandbox("GET", "/api-keys")["data"] if k["key"] == key), None)
        if entry is None:
            s.missing("key", f"the target does not list the key in use ({key}) among the tenant's keys")
            return
        created, source = float(entry["created"]), "observed: the twin's listing of the keys it issued"
    else:
        if h.team_key is None:
            where = (
                "no key pair of yours was configured: the twin issued this run's pair, whose age says nothing of yours"
            )
        elif h.target.twin:
            where = (
                "the embedded twin adopted your key pair at the run's start, so it saw nothing of when Bluum issued it"
            )
        else:
            where = "the Bluum API does not say when a tenant key was created"
        s.missing(
            "key",
            f"{where}; look up your pair's creation date in the Bluum dashboard and declare it, "
            f'e.g. {KEY_CREATED_SETTING} = "2026-10-01" (shown as declared, not observed; rotate at least '
            f"every {period_days} days)",
        )
        return
    age = {
        "key": key,
        "created": datetime.fromtimestamp(created, UTC).isoformat(),
        "age_days": (time.time() - created) / 86400,  # unrounded: 89.96 days is younger than 90
        "rotation_period_days": period_days,
        "source": source,
    }
    s.evidence("key_age", age)
    s.fact("key", age)


@judged(
    "credentials.key-age",
    item=ITEM,
    title="Your key pair is younger than the rotation period",
    needs=("key-age.key",),
)
def key_age(facts: Facts) -> Verdict:
    key: dict[str, Any] = facts["key-age.key"]
    period_days = key["rotation_period_days"]
    if key["age_days"] < period_days:
        return None
    pair = f"key {key['key']}" if key.get("key") else "your key pair"
    return Finding(
        "key-not-rotated",
        f"your key pair to be younger than the rotation period ({period_days} days)",
        f"{pair} was created {key['created']} ({key['age_days']:.0f} days ago"
        + (f"; {key['source']})" if key.get("source") else ")"),
        "rotate it: create a new pair in the Bluum dashboard, deploy it to your secret source, verify, then revoke "
        "the old pair (the credential-rotation item drills this)",
    )
