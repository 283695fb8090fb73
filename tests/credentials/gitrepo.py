"""Real git repositories in temporary folders for the history-scan tests: fixed author, committer and dates (so
commit ids are the same on every run), no global or system git configuration."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


class Repo:
    """A repository at ``root``; ``commit`` writes files (None deletes one) and commits them, returning the id."""

    def __init__(self, root: Path, branch: str = "main") -> None:
        self.root = root
        self.commits = 0
        root.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", branch)

    def env(self) -> dict[str, str]:
        date = f"2025-01-01T00:{self.commits // 60:02d}:{self.commits % 60:02d}Z"
        return {
            **os.environ,
            "GIT_AUTHOR_NAME": "Ada",
            "GIT_AUTHOR_EMAIL": "ada@example.com",
            "GIT_COMMITTER_NAME": "Ada",
            "GIT_COMMITTER_EMAIL": "ada@example.com",
            "GIT_AUTHOR_DATE": date,
            "GIT_COMMITTER_DATE": date,
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_CONFIG_NOSYSTEM": "1",
        }

    def git(self, *args: str) -> str:
        done = subprocess.run(["git", *args], cwd=self.root, env=self.env(), check=True, capture_output=True, text=True)
        return done.stdout.strip()

    def commit(self, message: str, files: dict[str, str | None]) -> str:
        for name, text in files.items():
            path = self.root / name
            if text is None:
                path.unlink()
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        self.git("add", "-A")
        self.commits += 1
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")
