"""Servers crmsync starts as child processes (the local Prefect server of `crmsync serve`, the
sandbox of a benchmark): waiting until one answers, and stopping it."""

from __future__ import annotations

import subprocess
import time

import httpx


def answers(url: str) -> bool:
    """Whether `url` answers 200 now."""
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def wait_until_answers(url: str, process: subprocess.Popen, seconds: float) -> str | None:
    """None once `url` answers 200; otherwise why it never will: the process exited, or the
    time ran out."""
    deadline = time.monotonic() + seconds
    while not answers(url):
        if process.poll() is not None:
            return f"exited with code {process.returncode}"
        if time.monotonic() > deadline:
            return f"did not answer within {seconds:g} s"
        time.sleep(0.1)
    return None


def stop(process: subprocess.Popen, grace_s: float) -> None:
    """Ask the process to stop; kill it if it has not within `grace_s`."""
    process.terminate()
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
