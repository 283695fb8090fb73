"""``POST /_sandbox/tick`` runs the caller's due work only: another tenant's jobs and deliveries wait."""

from __future__ import annotations

from bluum_readiness.testing import investor_profile
from tests.twin._webhook_helpers import create_webhook, receiver, sandbox


def _tick(client) -> dict:
    r = sandbox(client, "POST", "/tick")
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_tick_runs_the_callers_jobs_and_deliveries_and_no_one_elses(inproc):
    theirs = inproc.client_for(inproc.twin.create_tenant("other partner"))
    with receiver() as rx:
        for client in (inproc.client, theirs):
            create_webhook(client, rx.url, ["account.created"])
        ours_id = inproc.client.post("/investors", json=investor_profile()).json()["id"]
        their_id = theirs.post("/investors", json=investor_profile()).json()["id"]

        ran = _tick(theirs)
        assert (ran["jobs_run"], ran["deliveries_attempted"]) == (1, 1), ran  # their KYC decision, their event
        assert theirs.get(f"/investors/{their_id}").json()["status"] == "active"
        assert inproc.client.get(f"/investors/{ours_id}").json()["status"] == "onboarding"
        assert [got.json["data"]["id"] for got in rx.received] == [their_id]
        [ours] = sandbox(inproc.client, "GET", "/webhook-deliveries").json()["data"]
        assert ours["status"] == "pending" and ours["attempt_count"] == 0

        ran = _tick(inproc.client)
        assert (ran["jobs_run"], ran["deliveries_attempted"]) == (1, 1), ran
        assert inproc.client.get(f"/investors/{ours_id}").json()["status"] == "active"
        assert [got.json["data"]["id"] for got in rx.received] == [their_id, ours_id]
