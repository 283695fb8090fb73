"""A twin in its own process, to be killed with SIGKILL and restarted on the same SQLite file.

``python -m tests.reliability.twin_process --db FILE --key K --secret S [--retry-every 0.2 --retries 300]``
serves ``TwinServer(TwinSettings.fast(...))`` on 127.0.0.1:<free port>, prints its base URL on the first line
and runs until killed. It exists beside ``bluum-readiness sandbox`` (which ``tests/cli`` kills and restarts)
because the crash test needs a webhook retry schedule the CLI's ``--fast`` does not offer: retries slow enough
that deliveries to a failing receiver are still pending, not parked, when the process dies.

``TwinProcess`` is the test's handle on it.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from types import TracebackType

import httpx

from bluum_readiness._client_tls import default_tls_context
from tests.reliability.world import wait_for

ROOT = Path(__file__).resolve().parents[2]


def main(argv: list[str] | None = None) -> int:
    from bluum_readiness.twin import TwinServer, TwinSettings

    p = argparse.ArgumentParser(prog="python -m tests.reliability.twin_process")
    p.add_argument("--db", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--secret", required=True)
    p.add_argument("--retry-every", type=float, default=0.2)
    p.add_argument("--retries", type=int, default=300)  # 60 s of failures before parking
    args = p.parse_args(argv)
    settings = TwinSettings.fast(
        db_path=args.db, rate_limit_per_s=100_000.0, webhook_retry_schedule_s=(args.retry_every,) * args.retries
    )
    server = TwinServer(settings, key=args.key, secret=args.secret).start()
    print(server.base_url, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    server.stop()
    return 0


class TwinProcess:
    """``python -m tests.reliability.twin_process`` as a child process; ``base_url`` once it answers."""

    def __init__(self, db: Path, key: str, secret: str, log: Path) -> None:
        self._log = log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.reliability.twin_process", "--db", str(db), "--key", key, "--secret", secret],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=self._log,  # a file, never a pipe nobody reads: the twin's warnings must not block it
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().decode().strip()
        if not line.startswith("http://127.0.0.1:"):
            self.stop()
            raise AssertionError(f"the twin process did not start: {line!r}; see {log}")
        self.base_url = line
        wait_for(self._answers, "the twin process answering")

    def _answers(self) -> bool:
        try:
            return (
                httpx.get(self.base_url + "/openapi.json", timeout=1, verify=default_tls_context()).status_code == 200
            )
        except httpx.TransportError:
            return False

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self._close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._close()

    def _close(self) -> None:
        if self.proc.stdout is not None and not self.proc.stdout.closed:
            self.proc.stdout.close()
        self._log.close()

    def __enter__(self) -> TwinProcess:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


if __name__ == "__main__":
    sys.exit(main())
