"""A suite session: the target (an embedded twin by default, or a real Bluum environment), the fault proxy in
front of it, and the team's integration factory. One per pytest session — so one per xdist worker: each worker
starts its own proxy and, in embedded mode, its own in-memory twin (no state is shared between workers; the
twin's rate limit is raised for speed). Against a URL target every worker's proxy and setup client draw from
one ``SharedRateLimiter``.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from bluum_readiness.checks.registry import Check
from bluum_readiness.config import DEFAULT_INTEGRATION, RunConfig
from bluum_readiness.errors import ConfigError, HarnessError, TargetUnavailable
from bluum_readiness.failures import NotVerifiable
from bluum_readiness.harness import CredentialStore, Harness, HarnessSettings, Target, WebhookSecret
from bluum_readiness.integration import Credentials, IntegrationEnv, load_factory
from bluum_readiness.proxy.server import ProxyServer
from bluum_readiness.suite.ratelimit import SharedRateLimiter
from bluum_readiness.twin import TwinServer, TwinSettings

__all__ = ["DEFAULT_INTEGRATION", "SuiteSession", "preflight", "split_base_url"]


def split_base_url(url: str) -> Target:
    """``https://host/v1`` → ``Target(origin="https://host", twin=False)``; anything else is a ConfigError."""
    base = url.rstrip("/")
    if not base.startswith(("http://", "https://")) or not base.endswith("/v1"):
        raise ConfigError(
            f"target {url!r} must be an http(s) API base URL ending in /v1, e.g. https://sandbox.api.bluumfinance.com/v1"
        )
    return Target(origin=base[: -len("/v1")], twin=False)


def preflight(base_url: str, credentials: Credentials | None, timeout_s: float = 10.0) -> None:
    """``GET /assets?limit=1``: TargetUnavailable (exit 3) if the target is unreachable or rejects the pair.

    With ``credentials=None`` only reachability is proved (any HTTP answer will do).
    """
    url = base_url.rstrip("/") + "/assets"
    auth = (credentials.key, credentials.secret) if credentials is not None else None
    try:
        response = httpx.get(url, params={"limit": "1"}, auth=auth, timeout=timeout_s)
    except httpx.HTTPError as exc:
        raise TargetUnavailable(
            f"the target {base_url} is unreachable ({type(exc).__name__}: {exc}); check --target and the network"
        ) from None
    if credentials is None:
        return
    if response.status_code in (401, 403):
        raise TargetUnavailable(
            f"the target {base_url} rejected the credentials (HTTP {response.status_code}, request "
            f"{response.headers.get('x-request-id')}); check that the key pair belongs to this environment"
        )
    if response.status_code >= 400:
        raise TargetUnavailable(
            f"the target {base_url} answered GET /assets?limit=1 with HTTP {response.status_code}; "
            "is this the Bluum API base URL (ending in /v1)?"
        )


@dataclass
class SuiteSession:
    """Owns the long-lived parts; ``harness()`` makes a fresh per-check world on top of them."""

    factory: Callable[[IntegrationEnv], Any]
    settings: HarnessSettings = field(default_factory=HarnessSettings)
    twin: TwinServer | None = None
    proxy: ProxyServer | None = None
    credentials: CredentialStore | None = None
    remote: Target | None = None
    limiter: SharedRateLimiter | None = None
    integration_spec: str = DEFAULT_INTEGRATION
    run_config: RunConfig | None = None  # what the checks read as ``h.config`` (None: defaults)
    webhook_secret: str | None = None  # the configured endpoint's signing secret ([webhooks]), if any
    _seen_webhook_secrets: set[str] = field(default_factory=set)  # secrets of webhooks the checks registered

    @classmethod
    def embedded(
        cls,
        integration: str = DEFAULT_INTEGRATION,
        settings: HarnessSettings | None = None,
        twin_settings: TwinSettings | None = None,
        *,
        credentials: Credentials | None = None,
        limiter: SharedRateLimiter | None = None,
    ) -> SuiteSession:
        """A session against a fresh embedded twin (fast settings) on a free loopback port; ``credentials``
        seed the twin's tenant pair (e.g. from BLUUM_API_KEY / BLUUM_API_SECRET)."""
        session = cls(factory=load_factory(integration), settings=settings or HarnessSettings(), limiter=limiter)
        session.integration_spec = integration
        key, secret = (credentials.key, credentials.secret) if credentials else (None, None)
        if twin_settings is None:  # the twin trusts the suite's local CA, so it can deliver to local receivers
            from bluum_readiness.webhooks.tls import shared_local_tls

            twin_settings = TwinSettings.fast(webhook_ca_file=shared_local_tls().ca_file)
        session.twin = TwinServer(twin_settings, key=key, secret=secret).start()
        try:
            session.credentials = CredentialStore(Credentials(session.twin.pair.key, session.twin.pair.secret))
            session.proxy = ProxyServer(session.twin.base_url, pace=session._pace()).start()
        except BaseException:
            session.close()
            raise
        return session

    @classmethod
    def against(
        cls,
        base_url: str,
        credentials: Credentials,
        integration: str = DEFAULT_INTEGRATION,
        settings: HarnessSettings | None = None,
        *,
        limiter: SharedRateLimiter | None = None,
    ) -> SuiteSession:
        """A session against a real Bluum environment (e.g. the sandbox) at ``base_url`` (ending in /v1)."""
        target = split_base_url(base_url)
        session = cls(factory=load_factory(integration), settings=settings or HarnessSettings(), limiter=limiter)
        session.integration_spec = integration
        session.remote = target
        session.credentials = CredentialStore(credentials)
        session.proxy = ProxyServer(target.base_url, pace=session._pace()).start()
        return session

    def _pace(self) -> Callable[[], float] | None:
        return self.limiter.reserve if self.limiter is not None else None

    @property
    def target(self) -> Target:
        if self.remote is not None:
            return self.remote
        assert self.twin is not None, "the session is closed"
        return Target(origin=self.twin.origin, twin=True)

    def secrets(self) -> list[str]:
        """Texts that must never reach a report: every API secret the session's store held (a rotation drill or
        a 401 refresh changes it) with its HTTP Basic token, and every webhook signing secret seen."""
        if self.credentials is None:
            return []
        found: list[str] = []
        for pair in self.credentials.held:
            found += [pair.secret, base64.b64encode(f"{pair.key}:{pair.secret}".encode()).decode()]
        found += [s for s in (self.webhook_secret, *self._seen_webhook_secrets) if s]
        return list(dict.fromkeys(found))

    def harness(self) -> Harness:
        assert self.proxy is not None and self.credentials is not None
        self.proxy.clear_faults()
        h = Harness(
            target=self.target,
            proxy=self.proxy,
            factory=self.factory,
            credentials=self.credentials,
            settings=self.settings,
            run_config=self.run_config,
            webhook_secret=WebhookSecret(self.webhook_secret),
        )
        h.api.event_hooks = {"request": [self._pace_request], "response": [_refuse_own_429]}
        h.evidence["seed"] = self.settings.seed
        return h

    def _pace_request(self, request: httpx.Request) -> None:
        if self.limiter is not None:
            self.limiter.acquire()

    def run(self, check: Check, evidence: dict[str, Any] | None = None) -> None:
        """Run one check in a fresh harness (NotVerifiable, ConformanceFailure and HarnessError propagate).

        ``evidence`` receives what the harness recorded (exchanges, fault plans, the seed…), even on failure.
        """
        if check.twin_only and not self.target.twin:
            raise NotVerifiable(f"{check.id} needs the twin's sandbox controls; it runs in twin mode only")
        with self.harness() as h:
            try:
                check.execute(h)
            finally:
                h.keep_integration_output()
                if h.webhook_secret.known:
                    self._seen_webhook_secrets.add(h.webhook_secret.get())
                if evidence is not None:
                    evidence.update(h.evidence)

    def close(self) -> None:
        if self.proxy is not None:
            self.proxy.stop()
            self.proxy = None
        if self.twin is not None:
            self.twin.stop()
            self.twin = None


def _refuse_own_429(response: httpx.Response) -> None:
    """A 429 on the suite's own (unfaulted) traffic is the suite's doing: a harness problem, not a finding."""
    if response.status_code == 429:
        raise HarnessError(
            f"the suite's own request {response.request.method} {response.request.url.path} was rate limited "
            "(429) by the target: the run exceeded the target's rate limit. Lower rate_limit_per_s or workers "
            "in the configuration"
        )
