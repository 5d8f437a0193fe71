"""A sandbox in its own process, so its CPU (generating and serialising records) is never
counted in the process being measured; and its admin endpoints (stats, faults, churn, truth)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from crmsync.kernel.child_server import stop as stop_process
from crmsync.kernel.child_server import wait_until_answers
from crmsync.sandbox.server import free_port

START_TIMEOUT_S = 60.0


class SandboxProcess:
    """`crmsync sandbox serve` as a child process, and a client for its admin endpoints."""

    def __init__(self, contacts: int, seed: int = 7) -> None:
        self.contacts = contacts
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._process = subprocess.Popen(
            [sys.executable, "-m", "crmsync", "sandbox", "serve", "--port", str(self.port),
             "--contacts", str(contacts), "--seed", str(seed)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        # Truth at a million people is a large document: generous timeout.
        self.admin = httpx.Client(base_url=self.url, timeout=600)

    def wait_ready(self) -> SandboxProcess:
        problem = wait_until_answers(f"{self.url}/_sandbox/faults", self._process, START_TIMEOUT_S)
        if problem is None:
            return self
        said = []
        if self._process.poll() is not None:  # it exited: its last line says why
            said = self._process.stderr.read().decode(errors="replace").strip().splitlines()
        raise RuntimeError(f"the sandbox on {self.url} {problem}: {said[-1] if said else 'no message'}")

    def stop(self) -> None:
        self.admin.close()
        stop_process(self._process, grace_s=10)
        self._process.stderr.close()

    def cpu_seconds(self) -> float:
        """CPU the sandbox process has used so far (user + system), from /proc."""
        fields = Path(f"/proc/{self._process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def reset_stats(self) -> None:
        self.admin.delete("/_sandbox/stats").raise_for_status()

    def requests(self, provider: str) -> Counter:
        """Requests answered for `provider` since the last reset, by "METHOD /template"."""
        body = self.admin.get("/_sandbox/stats").raise_for_status().json()
        return Counter(body["requests"].get(provider, {}))

    def statuses(self, provider: str) -> Counter:
        body = self.admin.get("/_sandbox/stats").raise_for_status().json()
        return Counter(body["statuses"].get(provider, {}))

    def set_faults(self, **faults: Any) -> None:
        self.admin.post("/_sandbox/faults", json=faults).raise_for_status()

    def churn(self, **shares: float) -> dict[str, Any]:
        return self.admin.post("/_sandbox/churn", json=shares).raise_for_status().json()

    def truth_counts(self) -> dict[str, dict[str, int]]:
        return self.admin.get("/_sandbox/truth").raise_for_status().json()["counts"]


@contextmanager
def running_sandbox(contacts: int) -> Iterator[SandboxProcess]:
    sandbox = SandboxProcess(contacts)
    try:
        yield sandbox.wait_ready()
    finally:
        sandbox.stop()
