"""One readiness run, resolved once and handed down: ``Run``.

``bluum-readiness run`` builds it from the configuration before pytest starts (the plugin builds it once instead
when pytest runs the suite directly); the plugin hands it to every xdist worker; the session, the harnesses, the
listener and the console read it. Nothing re-reads the configuration or asks a credential source twice.

- ``config``: the configuration file with the command line's overrides, validated (``RunConfig``), its
  ``[thresholds]`` included;
- ``credentials``: the configured key pair, read from its source once (None: an embedded run with nothing
  configured, where the twin makes its own pair);
- ``webhook_secret``: the ``[webhooks]`` endpoint's signing secret, read once (None: none configured);
- ``secrets``: the one owner of what must be scrubbed (``redaction.Secrets``) — the one part of a run that grows
  while it runs (a rotation drill's new pair, a registered webhook's secret);
- ``target`` (None: embedded) and ``factory``, the integration factory, loaded once per process;
- ``limiter``: the rate limiter every process of a run against a real environment shares.

The run is frozen: a different configuration is a different ``Run`` (``with_config``), sharing its ``Secrets``.
"""

from __future__ import annotations

import base64
import dataclasses
import pickle
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from bluum_readiness.config import RunConfig
from bluum_readiness.integration import Credentials, IntegrationEnv, load_factory
from bluum_readiness.redaction import Secrets
from bluum_readiness.suite.ratelimit import SharedRateLimiter
from bluum_readiness.target import Target, parse_target

__all__ = ["Run"]


@dataclass(frozen=True)
class Run:
    """See the module docstring. Build it with ``Run.resolve(config)``."""

    config: RunConfig = field(default_factory=RunConfig)
    credentials: Credentials | None = None
    webhook_secret: str | None = field(default=None, repr=False)
    secrets: Secrets = field(default_factory=Secrets, compare=False, repr=False)
    limiter_state: str | None = None  # the shared limiter's state file, created by the first process
    limiter_rate: float | None = None

    @classmethod
    def resolve(cls, config: RunConfig) -> Run:
        """Read the credentials (required against a real environment; optional for the twin, which they then
        seed) and the webhook secret from their sources, once. A ConfigError says what is missing."""
        use_pair = not config.embedded or config.credentials.available()
        credentials = config.credentials.resolve() if use_pair else None
        run = cls(config, credentials, config.webhooks.resolve_secret())
        if credentials is not None:
            run.secrets.add_pair(credentials)
        run.secrets.add(run.webhook_secret)
        return run

    @property
    def embedded(self) -> bool:
        return self.config.embedded

    @property
    def target(self) -> Target | None:
        """The real environment the run is against, or None for an embedded twin."""
        return parse_target(self.config.target)

    @cached_property
    def factory(self) -> Callable[[IntegrationEnv], Any]:
        """The integration factory ``config.integration`` names (imported once per process)."""
        return load_factory(self.config.integration)

    def with_config(self, config: RunConfig) -> Run:
        """The same run under another configuration (the project's tests vary it per check)."""
        return dataclasses.replace(self, config=config)

    def with_shared_limiter(self, share: int = 1) -> Run:
        """The run with a fresh rate limiter when a limit is in force (its state file is the caller's to remove),
        else itself. ``share``: how many processes will each keep their own (each gets rate / share)."""
        rate = self.config.effective_rate_limit
        if rate is None or self.limiter_state is not None:
            return self
        limiter = SharedRateLimiter.create(rate / share)
        return dataclasses.replace(self, limiter_state=str(limiter.path), limiter_rate=limiter.rate)

    def limiter(self) -> SharedRateLimiter | None:
        """The run's rate limiter (None: no limit in force, or not created yet)."""
        if self.limiter_state is None or self.limiter_rate is None:
            return None
        return SharedRateLimiter(self.limiter_state, self.limiter_rate)

    # -- handing it to xdist workers --------------------------------------------------------------------------

    def to_wire(self) -> str:
        """The run as text for an xdist worker's ``workerinput`` (the same code on both ends: a pickle). It holds
        secrets, so it travels over the worker's channel only, never through argv or the environment."""
        state = (self.config, self.credentials, self.webhook_secret, list(self.secrets), self.limiter_state,
                 self.limiter_rate)  # fmt: skip
        return base64.b64encode(pickle.dumps(state)).decode("ascii")

    @classmethod
    def from_wire(cls, text: str) -> Run:
        config, credentials, webhook_secret, secrets, state, rate = pickle.loads(base64.b64decode(text))
        return cls(config, credentials, webhook_secret, Secrets(secrets), state, rate)
