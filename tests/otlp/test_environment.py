"""The OTEL_* variables an integration is started with: the suite's receiver and short batch delays; a team's own
endpoint replaced and said so, a team's protocol kept (and a gRPC one named as what no span can get past)."""

from __future__ import annotations

from bluum_readiness.otlp import applied, otel_environment

ENDPOINT = "http://127.0.0.1:4318"


def test_a_clean_environment_gets_the_receiver_protobuf_and_short_batch_delays():
    env = otel_environment(ENDPOINT, {})
    assert dict(env.variables) == {
        "OTEL_EXPORTER_OTLP_ENDPOINT": ENDPOINT,
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_BSP_SCHEDULE_DELAY": "100",
        "OTEL_BLRP_SCHEDULE_DELAY": "100",
    }
    assert (env.replaced, dict(env.kept), env.notes) == ((), {}, ())


def test_a_teams_endpoints_are_replaced_by_name_and_the_note_says_so():
    team = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": "https://user:token@collector.example:4318",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://collector.example:4318/v1/traces",
        "OTEL_BSP_SCHEDULE_DELAY": "5000",
    }
    env = otel_environment(ENDPOINT, team)
    assert env.variables["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] == f"{ENDPOINT}/v1/traces"
    assert "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT" not in env.variables  # not set by the team: the general one serves
    assert env.replaced == (
        "OTEL_BSP_SCHEDULE_DELAY",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    )
    assert "the suite replaced OTEL_BSP_SCHEDULE_DELAY, OTEL_EXPORTER_OTLP_ENDPOINT" in env.notes[0]
    assert "token" not in repr(env.to_dict())  # names only: an endpoint may carry credentials


def test_a_teams_protocol_is_kept_and_grpc_is_named_as_unreceivable():
    kept = otel_environment(ENDPOINT, {"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"})
    assert "OTEL_EXPORTER_OTLP_PROTOCOL" not in kept.variables
    assert kept.kept == {"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}
    assert kept.notes == ()
    grpc = otel_environment(ENDPOINT, {"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc"})
    assert grpc.variables["OTEL_EXPORTER_OTLP_PROTOCOL"] == "http/protobuf"  # the other signals
    assert "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=grpc is kept as set" in grpc.notes[0]


def test_applied_sets_the_variables_for_the_block_then_restores_the_environment():
    environ = {"OTEL_EXPORTER_OTLP_ENDPOINT": "https://team", "PATH": "/bin"}
    with applied({"OTEL_EXPORTER_OTLP_ENDPOINT": ENDPOINT, "OTEL_BSP_SCHEDULE_DELAY": "100"}, environ):
        assert environ == {"OTEL_EXPORTER_OTLP_ENDPOINT": ENDPOINT, "OTEL_BSP_SCHEDULE_DELAY": "100", "PATH": "/bin"}
    assert environ == {"OTEL_EXPORTER_OTLP_ENDPOINT": "https://team", "PATH": "/bin"}


def test_an_in_process_factory_sees_the_variables_while_it_runs_and_the_process_keeps_its_own(monkeypatch):
    import os

    from bluum_readiness.reference import create_fast
    from bluum_readiness.suite.session import SuiteSession

    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "https://collector.example")
    seen: dict[str, str | None] = {}

    def factory(env, **options):
        seen.update({name: os.environ.get(name) for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_BSP_SCHEDULE_DELAY")})
        return create_fast(env, **options)

    session = SuiteSession.embedded(virtual_time=True)
    try:
        session.factory = factory
        with session.harness() as h:
            h.integration()
        assert session.otlp is not None and session.otel is not None
        assert seen == {"OTEL_EXPORTER_OTLP_ENDPOINT": session.otlp.endpoint, "OTEL_BSP_SCHEDULE_DELAY": "100"}
        assert session.otel.replaced == ("OTEL_EXPORTER_OTLP_ENDPOINT",)
    finally:
        session.close()
    assert os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"] == "https://collector.example"
    assert "OTEL_BSP_SCHEDULE_DELAY" not in os.environ
