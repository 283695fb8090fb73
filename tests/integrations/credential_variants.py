"""Known-bad cases of the ``credentials`` item (one defect each) and the checks that must flag them.

A case is an integration plus the project folder it lives in (files the secret scan reads; with ``history``, a git
repository whose commits are those states, oldest first, then the project files) and, for key age, how old the
tenant key in use is. Every case runs against a twin seeded with ``HARD_CODED`` (so an integration
that carries that pair in its code can talk to it). ``{key}`` and ``{secret}`` in project files are replaced by
that pair. Integrations are usable as ``--integration tests.integrations.credential_variants:<name>``.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bluum_readiness.integration import Credentials, IntegrationEnv, load_factory
from tests.integrations import variants

# Built, not written out, so the text of this file holds no key-shaped literal.
HARD_CODED = Credentials(
    "test_bluum_" + hashlib.sha256(b"a pair pasted into the code").hexdigest(),
    hashlib.sha256(b"its secret").hexdigest(),
)

_reference = load_factory("bluum_readiness.reference:create_fast")

CLEAN_PROJECT = {
    "app/bluum_client.py": 'import os\n\nKEY = os.environ["BLUUM_API_KEY"]\nSECRET = os.environ["BLUUM_API_SECRET"]\n',
}


def reference(env: IntegrationEnv) -> Any:
    return _reference(env)


def hard_coded_pair(env: IntegrationEnv) -> Any:
    """Ignores IntegrationEnv.credentials: always the pair pasted into its code."""
    return _reference(dataclasses.replace(env, credentials=lambda: HARD_CODED))


def hard_coded_secret(env: IntegrationEnv) -> Any:
    """Takes the key id from the source but the secret from its code."""
    return _reference(
        dataclasses.replace(env, credentials=lambda: Credentials(env.credentials().key, HARD_CODED.secret))
    )


@dataclass(frozen=True)
class Case:
    factory: Callable[[IntegrationEnv], Any]
    expected: set[str]  # exactly these checks fail
    project: dict[str, str] = field(default_factory=lambda: dict(CLEAN_PROJECT))
    key_age_days: float | None = None  # no team pair: use a tenant key the twin made this many days ago
    # (no key_age_days) the team declares its pair created this many days ago ([credentials] key_created)
    key_created_days_ago: int | None = 30
    history: tuple[dict[str, str | None], ...] = ()  # commits before the project files (None deletes a file)


KNOWN_BAD: dict[str, Case] = {
    "hard_coded_key_in_source": Case(
        reference,
        {"credentials.no-secrets-in-code"},
        project={**CLEAN_PROJECT, "app/settings.py": 'BLUUM_API_KEY = "{key}"\nTIMEOUT_S = 5\n'},
    ),
    "secret_in_config_file": Case(
        reference,
        {"credentials.secret-source"},
        project={
            **CLEAN_PROJECT,
            "bluum-readiness.toml": '[credentials]\nsource = "command"\nkey = "{key}"\ncommand = "echo {secret}"\n',
        },
    ),
    "hard_coded_pair": Case(hard_coded_pair, {"credentials.secret-source"}),
    "hard_coded_secret": Case(hard_coded_secret, {"credentials.secret-source"}),
    "key_older_than_rotation_period": Case(reference, {"credentials.key-age"}, key_age_days=120),
    "declared_key_older_than_rotation_period": Case(reference, {"credentials.key-age"}, key_created_days_ago=120),
    # the case: a fallback pair committed (the literal on the line below its name), removed later
    "key_removed_but_in_git_history": Case(
        reference,
        {"credentials.no-secrets-in-code"},
        history=(
            {"app/settings.py": 'import os\n\nBLUUM_API_KEY = os.environ.get(\n    "BLUUM_API_KEY", "{key}"\n)\n'},
            {"app/settings.py": None},
        ),
    ),
}

GOOD: dict[str, Case] = {
    "reference": Case(reference, set()),
    "correct_different": Case(variants.correct_different, set()),
    # reads the source once and never again: the rotation items' concern, not where credentials come from
    "credentials_cached_forever": Case(variants.KNOWN_BAD["credentials_cached_forever"][0], set()),
    "reference_with_a_key_of_89_days": Case(reference, set(), key_age_days=89),
    "reference_declaring_a_key_of_89_days": Case(reference, set(), key_created_days_ago=89),
    "reference_in_a_git_repository_with_a_clean_history": Case(
        reference,
        set(),
        history=({"README.md": "# app\n"}, {"app/util.py": "def add(a, b):\n    return a + b\n"}),
    ),
    "reference_with_the_key_id_in_its_config": Case(
        reference,
        set(),
        project={**CLEAN_PROJECT, "bluum-readiness.toml": '[credentials]\nsource = "env"\nkey = "{key}"\n'},
    ),
}
