"""A seeded twin (``TwinSettings.seed``) restarted on the same database must never hand out a secret twice.

A seed makes the generator replay the same sequence in every process, so secrets drawn from it repeated after
each restart: the second run's tenant key pair and webhook signing secret were the first run's.
"""

from __future__ import annotations

from tests.fixtures.twin import InProcessTwin
from tests.twin._webhook_helpers import create_webhook


def _one_run(db: str) -> dict[str, str]:
    """Start a seeded twin on ``db``, make a tenant, a second key pair and a webhook, then stop it."""
    run = InProcessTwin(db_path=db, seed=7)
    try:
        extra = run.twin.create_tenant_key(run.pair.tenant_id)
        hook = create_webhook(run.client, "http://127.0.0.1:9/hook", ["account.created"])
        return {
            "tenant key": run.pair.key,
            "tenant secret": run.pair.secret,
            "second key": extra.key,
            "second secret": extra.secret,
            "webhook secret": hook["secret"],
            "tenant id": run.pair.tenant_id,
            "webhook id": hook["id"],
        }
    finally:
        run.close()


def test_secrets_made_after_a_restart_never_repeat_those_made_before(tmp_path):
    db = str(tmp_path / "twin.sqlite3")
    before, after = _one_run(db), _one_run(db)
    repeated = sorted(what for what in before if before[what] == after[what])
    assert repeated == [], f"a seeded twin restarted on the same database repeated: {repeated}"
    assert len({*before.values(), *after.values()}) == 2 * len(before)
