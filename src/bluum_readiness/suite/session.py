"""A suite session: the long-lived parts of a run in one process — the target (an embedded twin by default, or a
real Bluum environment), the fault proxy in front of it, the credential store — built from the ``Run``; and a
fresh ``Harness`` per check on top of them. One per pytest session, so one per xdist worker: each worker starts
its own proxy and, in embedded mode, its own in-memory twin (no state is shared between workers; the twin's rate
limit is raised for speed). Against a real environment every worker's proxy and setup client draw from the
run's shared rate limiter.

Every session also runs an OTLP/HTTP receiver on 127.0.0.1 (a free port; always on: it costs a few milliseconds
and one idle thread), and each integration a harness starts gets the ``OTEL_*`` variables that point an
OpenTelemetry SDK at it (``otlp.environment``, computed once from the environment the session started in), so
spans and log records are a log source for the observability checks (docs/opentelemetry.md).

``virtual_time=True`` (the project's own tests, embedded twin only) puts an ``InProcessProxy`` in front of the
twin instead of the socket ``ProxyServer``: integrations are built with its transport and sleep, and the checks
measure and bound them on its virtual clock, so backoff, Retry-After and timeouts cost no real time.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from typing import Any

import httpx

from bluum_readiness._client_tls import tls_context_for
from bluum_readiness._loopback import keep_loopback_direct
from bluum_readiness.checks._alert_sources import known_unavailable
from bluum_readiness.checks.registry import Check
from bluum_readiness.config import DEFAULT_INTEGRATION, RunConfig, Thresholds
from bluum_readiness.errors import ConfigError, TargetUnavailable
from bluum_readiness.failures import NotApplicable, NotVerifiable, hidden_for_findings
from bluum_readiness.harness import CredentialStore, Harness, WebhookSecret
from bluum_readiness.integration import Credentials, IntegrationEnv
from bluum_readiness.otlp import OtelEnvironment, OtlpReceiver, otel_environment
from bluum_readiness.proxy.inprocess import InProcessProxy
from bluum_readiness.proxy.server import ProxyServer
from bluum_readiness.redaction import Secrets
from bluum_readiness.run import Run
from bluum_readiness.smoke import NOT_THE_API, not_the_api
from bluum_readiness.suite.prelude import Prelude, may_run_beside
from bluum_readiness.suite.ratelimit import MIN_SLOWED_RATE, SharedRateLimiter
from bluum_readiness.target import Target
from bluum_readiness.twin import TwinServer, TwinSettings

__all__ = ["DEFAULT_INTEGRATION", "WEBHOOKS_UNUSED", "SuiteSession", "preflight"]

PRELUDE_CLOSE_GRACE_S = 2.0  # how long closing waits for side-by-side observations still under way (a stopped run)
WEBHOOKS_UNUSED = "not applicable: the integration consumes no Bluum webhooks ([webhooks] used = false)"


def preflight(base_url: str, credentials: Credentials | None, timeout_s: float = 10.0) -> None:
    """``GET /assets?limit=1``: TargetUnavailable (exit 3) if the target is unreachable or rejects the pair.

    With ``credentials=None`` only reachability is proved (any HTTP answer will do). A 2xx whose body cannot be the
    API's (``smoke.not_the_api``: a website's HTML) is TargetUnavailable too: every later call would fail on it.
    """
    url = base_url.rstrip("/") + "/assets"
    auth = (credentials.key, credentials.secret) if credentials is not None else None
    try:
        response = httpx.get(url, params={"limit": "1"}, auth=auth, timeout=timeout_s, verify=tls_context_for(url))
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
    not_api = not_the_api(response)
    if not_api is not None:
        raise TargetUnavailable(
            f"the target {base_url} answered GET /assets?limit=1 with HTTP {response.status_code}, but {not_api}: "
            f"{NOT_THE_API}"
        )


class SuiteSession:
    """Owns the long-lived parts of a run in this process; ``harness()`` makes a fresh per-check world on top.

    :param run: the run (configuration, credentials, secrets, factory, limiter).
    :param twin_settings: the embedded twin's settings (default: fast, trusting the suite's local CA so it can
        deliver webhooks to local receivers).
    :param limiter: overrides the run's shared rate limiter (benchmarks).
    :param virtual_time: an ``InProcessProxy`` on a virtual clock instead of the socket proxy (embedded twin
        only); every factory is then called with ``transport=`` and ``sleep=`` keyword arguments and must use
        them (the reference's ``create``/``create_fast`` do).

    ``factory`` starts as the run's and may be replaced (the project's tests try many integrations in one
    session); ``config`` likewise (a new ``Run`` with that configuration: the run itself never changes).
    """

    def __init__(
        self,
        run: Run,
        *,
        twin_settings: TwinSettings | None = None,
        limiter: SharedRateLimiter | None = None,
        virtual_time: bool = False,
    ) -> None:
        keep_loopback_direct()  # plain pytest too: an HTTP_PROXY never carries the session's loopback traffic
        self._run = run
        self.factory: Callable[[IntegrationEnv], Any] = run.factory
        self.limiter = limiter if limiter is not None else run.limiter()
        self.twin: TwinServer | None = None
        self.proxy: ProxyServer | InProcessProxy | None = None
        self.otlp: OtlpReceiver | None = None
        self.otel: OtelEnvironment | None = None
        self._observations: dict[Any, Any] = {}  # Harness.observe, shared by this session's checks
        self._webhooks_checked: Any = None  # the factory whose webhook_url was looked at (_no_webhook_url)
        self.prelude: Prelude | None = None  # side-by-side observations under way (suite/prelude.py)
        remote = run.target
        if virtual_time and remote is not None:
            raise ConfigError("virtual time needs the embedded twin; a real environment runs on the real clock")
        try:
            if remote is None:
                if twin_settings is None:
                    from bluum_readiness.webhooks.tls import shared_local_tls

                    twin_settings = TwinSettings.fast(webhook_ca_file=shared_local_tls().ca_file)
                seed = run.credentials
                self.twin = TwinServer(
                    twin_settings, key=seed.key if seed else None, secret=seed.secret if seed else None
                )
                self.twin.start()
                pair = Credentials(self.twin.pair.key, self.twin.pair.secret)
            elif run.credentials is None:
                raise ConfigError("a run against a real environment needs its key pair (see [credentials])")
            else:
                pair = run.credentials
            self.credentials = CredentialStore(pair)
            run.secrets.add_pair(pair)
            self.credentials.subscribe(run.secrets.add_pair)  # a rotation's or a 401 check's new pair too
            if virtual_time:
                self.proxy = InProcessProxy(self.target.base_url).start()
            else:
                self.proxy = self._paced_proxy()
            self.otlp = OtlpReceiver().start()
            self.otel = otel_environment(self.otlp.endpoint, os.environ)
        except BaseException:
            self.close()
            raise

    @classmethod
    def embedded(
        cls,
        integration: str = DEFAULT_INTEGRATION,
        *,
        thresholds: Thresholds | None = None,
        twin_settings: TwinSettings | None = None,
        credentials: Credentials | None = None,
        virtual_time: bool = False,
    ) -> SuiteSession:
        """A session against a fresh embedded twin on a free loopback port (the project's tests); ``credentials``
        seed the twin's tenant pair; ``virtual_time`` as for the constructor."""
        config = RunConfig(integration=integration, thresholds=thresholds or Thresholds())
        return cls(Run(config, credentials), twin_settings=twin_settings, virtual_time=virtual_time)

    @classmethod
    def against(
        cls,
        base_url: str,
        credentials: Credentials,
        integration: str = DEFAULT_INTEGRATION,
        *,
        thresholds: Thresholds | None = None,
        limiter: SharedRateLimiter | None = None,
    ) -> SuiteSession:
        """A session against a real Bluum environment (e.g. the sandbox) at ``base_url`` (ending in /v1)."""
        config = RunConfig(integration=integration, thresholds=thresholds or Thresholds()).override(target=base_url)
        return cls(Run(config, credentials), limiter=limiter)

    @property
    def config(self) -> RunConfig:
        return self._run.config

    @config.setter
    def config(self, config: RunConfig | None) -> None:
        """Serve the checks another configuration from now on; the session's target stays the one it started
        with (its twin or proxy are running), so the new configuration takes that target too."""
        chosen = config if config is not None else RunConfig()
        self._run = self._run.with_config(dataclasses.replace(chosen, target=self._run.config.target))

    @property
    def virtual_time(self) -> bool:
        """Whether integrations run through an ``InProcessProxy`` on its virtual clock."""
        return isinstance(self.proxy, InProcessProxy)

    @property
    def secrets(self) -> Secrets:
        """Every secret the run holds (its pairs with their Basic tokens, webhook secrets): what outputs scrub."""
        return self._run.secrets

    def _slow_down(self) -> float:
        """Halve the run's pace (``SharedRateLimiter.slow_down``), never below two requests per request timeout:
        the integration's requests wait for their slot in the proxy, and a slower pace could hold one for most of
        its ``request_timeout_s`` — a timeout of the suite's own doing."""
        assert self.limiter is not None
        return self.limiter.slow_down(floor=max(MIN_SLOWED_RATE, 2.0 / self.config.thresholds.request_timeout_s))

    def _paced_proxy(self) -> ProxyServer:
        """A started socket proxy in front of the target that keeps the integration's traffic under the run's rate
        limit, slowing the whole run down when the target rate-limits it anyway (a key pair shared with another
        client)."""
        limiter = self.limiter
        return ProxyServer(
            self.target.base_url,
            pace=limiter.reserve if limiter is not None else None,
            rate_limited=self._slow_down if limiter is not None else None,
        ).start()

    @property
    def target(self) -> Target:
        remote = self._run.target
        if remote is not None:
            return remote
        assert self.twin is not None, "the session is closed"
        return Target(origin=self.twin.origin, twin=True)

    def harness(self, proxy: ProxyServer | None = None) -> Harness:
        """A fresh per-check world on the session's proxy, or on ``proxy`` (a scenario observed side by side with
        others has its own, so its fault rules and exchanges are its own: ``suite/prelude.py``)."""
        assert self.proxy is not None, "the session is closed"
        if proxy is None:
            self.proxy.clear_faults()
        virtual = self.proxy if isinstance(self.proxy, InProcessProxy) and proxy is None else None
        h = Harness(
            target=self.target,
            proxy=proxy or self.proxy,
            factory=self.factory,
            credentials=self.credentials,
            config=self.config,
            secrets=self.secrets,
            webhook_secret=WebhookSecret(self._run.webhook_secret),
            clock=virtual.time.monotonic if virtual else None,
            sleep=virtual.sleep if virtual else None,
            factory_options=virtual.integration_options if virtual else None,
            observations=self._observations,
            otlp=self.otlp,
            otel=self.otel,
            team_key=self._run.credentials.key if self._run.credentials else None,
            slow_down=self._slow_down if self.limiter is not None else None,
        )
        h.api.event_hooks = {"request": [self._pace_request]}
        h.evidence["seed"] = self.config.seed
        return h

    def own_proxy(self) -> ProxyServer:
        """A started socket proxy of its own in front of the session's target (stop it when done)."""
        return self._paced_proxy()

    def _pace_request(self, request: httpx.Request) -> None:
        if self.limiter is not None:
            self.limiter.acquire()

    def run(self, check: Check, evidence: dict[str, Any] | None = None) -> None:
        """Run one check in a fresh harness (NotVerifiable, ConformanceFailure and HarnessError propagate).

        ``evidence`` receives what the harness recorded (exchanges, fault plans, the seed…), even on failure.
        """
        __tracebackhide__ = hidden_for_findings
        if not self.config.webhooks.used and (check.item == "webhooks" or "webhook_url" in check.needs):
            self._no_webhook_url()
            raise NotApplicable(f"{check.id}: {WEBHOOKS_UNUSED}")
        if check.twin_only and not self.target.twin:
            raise NotVerifiable(f"{check.id} needs the twin's sandbox controls; it runs in twin mode only")
        if "alerts" in check.needs:
            unavailable = known_unavailable(self.factory, self.config.alerts)
            if unavailable is not None:
                raise NotVerifiable(unavailable)
        if self.prelude is not None and not may_run_beside(check):
            began = time.monotonic()
            self.prelude.wait()  # until it ended, or met a broken program
            if evidence is not None:
                evidence["waited_for_side_by_side_s"] = round(time.monotonic() - began, 3)
            if self.prelude.broken is None:
                self.prelude = None
        if self.prelude is not None and self.prelude.broken is not None:
            raise self.prelude.broken  # the program broke the protocol side by side: the run stops here, at once
        with self.harness() as h:
            try:
                check.execute(h)
            finally:
                h.close()  # first: each program's stderr is complete once it exited (no wait for it to go quiet)
                h.keep_integration_output()
                if evidence is not None:
                    evidence.update(h.evidence)

    def _no_webhook_url(self) -> None:
        """``[webhooks] used = false`` holds only for an integration that serves no receiver: one exposing
        ``webhook_url`` contradicts it (a config error, exit 2). Looked at once per integration factory."""
        if self._webhooks_checked is self.factory:
            return
        with self.harness() as h:
            url = getattr(h.integration(), "webhook_url", None)
        if url:
            raise ConfigError(
                f"[webhooks] used = false, but the integration exposes webhook_url ({url}): remove `used = false` "
                "from [webhooks] so its receiver is checked, or stop serving one"
            )
        self._webhooks_checked = self.factory

    def close(self) -> None:
        if self.prelude is not None:
            # Its observations use the twin: let them end. Only a run that stopped early (Ctrl-C, a broken program)
            # finds them still under way: nothing more starts, and it waits only so long for those under way.
            self.prelude.stop()
            self.prelude.join(timeout=PRELUDE_CLOSE_GRACE_S)
            self.prelude = None
        if self.otlp is not None:
            self.otlp.stop()
            self.otlp = None
        if self.proxy is not None:
            self.proxy.stop()
            self.proxy = None
        if self.twin is not None:
            self.twin.stop()
            self.twin = None
