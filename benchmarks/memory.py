"""Item 6: peak RSS of a full sync, in a child process so the harness (and the sandbox, in its
own process) is not counted. Run as `python -m benchmarks.memory PROVIDER WAREHOUSE`, with
the sandbox settings in the environment, it syncs and prints its own peak RSS in MB, and
the peak within each step of the run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from crmsync.benchmarks.figures import Figure, at_most, reported
from crmsync.benchmarks.sandbox_process import SandboxProcess
from crmsync.sandbox.link import sandbox_environment

PROJECT_ROOT = Path(__file__).resolve().parents[1]
TARGET_MB = 600.0
TARGET_CONTACTS = 1_000_000


def sync_in_child(sandbox: SandboxProcess, provider: str, warehouse: Path) -> dict[str, Any]:
    """Sync `provider` from `sandbox` into `warehouse` in a child process: its peak RSS in MB
    (`peak_rss_mb`), the sync's `seconds` and `rows` loaded."""
    env = {**os.environ, **sandbox_environment(sandbox.url)}
    # From the project root: `-m` finds benchmarks/ there whether or not it is installed.
    done = subprocess.run([sys.executable, "-m", "crmsync.benchmarks.memory", provider, str(warehouse)],
                          env=env, capture_output=True, text=True, cwd=PROJECT_ROOT)
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines()
        raise RuntimeError(f"the {provider} sync for memory failed: {lines[-1] if lines else done.returncode}")
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    if answer["status"] != "ok":
        raise RuntimeError(f"the {provider} sync for memory failed: {answer['error']}")
    return answer


def memory_figures(provider: str, contacts: int, big: dict[str, Any], smaller: int,
                   small: dict[str, Any]) -> list[Figure]:
    name = f"memory.{provider}"
    at_n, at_smaller = big["peak_rss_mb"], small["peak_rss_mb"]
    phases = ", ".join(f"{phase} {mb:.0f}" for phase, mb in big["by_phase"].items())
    note = (f"full sync of {provider} at {contacts:,} contacts in a child process "
            f"({big['rows']:,} rows, {big['seconds']:.0f} s); peak MB by step: {phases}")
    peak = (at_most(f"{name}.peak_rss", at_n, "MB", TARGET_MB, note) if contacts >= TARGET_CONTACTS
            else reported(f"{name}.peak_rss", at_n, "MB", note + f"; the {TARGET_MB:g} MB target is at 1,000,000"))
    return [
        peak,
        reported(f"{name}.peak_rss_smaller", at_smaller, "MB",
                 f"the same at {smaller:,} contacts ({small['rows']:,} rows, {small['seconds']:.0f} s)"),
        reported(f"{name}.growth", at_n / at_smaller, "x",
                 f"peak at {contacts:,} / peak at {smaller:,} ({contacts / smaller:g}x the contacts)"),
    ]


def _main(provider: str, warehouse: str) -> None:
    import dlt

    from crmsync.pipelines.sync import pipelines_dir, sync_provider

    samples = _RssSampler()
    result = sync_provider(provider, Path(warehouse))
    samples.stop()
    pipeline = dlt.pipeline(pipeline_name=f"crmsync_{provider}", pipelines_dir=str(pipelines_dir(Path(warehouse))))
    print(json.dumps({"status": result.status, "error": result.error, "peak_rss_mb": _status_mb("VmHWM"),
                      "by_phase": samples.peaks(pipeline), "seconds": result.seconds,
                      "rows": sum(result.rows.values())}))


class _RssSampler:
    """RSS every 0.2 s in a thread, so the peak can be put down to dlt's extract, normalize or
    load step (or crmsync's own work before and after them)."""

    def __init__(self) -> None:
        self.samples: list[tuple[datetime, float]] = []
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._done.wait(0.2):
            self.samples.append((datetime.now(timezone.utc), _status_mb("VmRSS")))

    def stop(self) -> None:
        self._done.set()
        self._thread.join()

    def peaks(self, pipeline: Any) -> dict[str, float]:
        steps = [s for s in pipeline.last_trace.steps if s.step != "run"] if pipeline.last_trace else []
        peaks: dict[str, float] = {}
        for at, mb in self.samples:
            phase = next((s.step for s in steps if s.started_at <= at <= s.finished_at),
                         "before" if not steps or at < steps[0].started_at else "after")
            peaks[phase] = max(peaks.get(phase, 0.0), mb)
        return peaks


def _status_mb(field: str) -> float:
    """A memory line of /proc/self/status in MB. VmHWM is this process's own high-water mark
    (getrusage's ru_maxrss is carried across exec: a child would report the harness's peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return round(int(line.split()[1]) / 1024, 1)  # kB
    raise RuntimeError(f"no {field} in /proc/self/status (memory is measured on Linux)")


if __name__ == "__main__":
    _main(*sys.argv[1:3])
