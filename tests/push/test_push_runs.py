"""A push killed midway leaves its ops.push_runs row 'running'; the next push (not a dry run)
closes it as 'killed', finished when it noticed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path

from tests.push.test_engine import FakeClient, World

REPO = Path(__file__).parents[2]
# A push whose provider never answers its first add: killed there, it leaves its run open.
STUCK_PUSH = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from crmsync.pipelines.push import push
    from tests.push.test_engine import FakeClient

    class Stuck(FakeClient):
        def add(self, target_id, members):
            Path(sys.argv[3]).write_text("adding")
            time.sleep(300)

    push(Path(sys.argv[1]), transforms_root=Path(sys.argv[2]), clients={"chatman": Stuck()}, providers=["chatman"])
""")


def kill_a_push_midway(world: World, tmp_path: Path) -> None:
    adding = tmp_path / "adding"
    process = subprocess.Popen([sys.executable, "-c", STUCK_PUSH, str(world.path), str(world.root), str(adding)],
                               cwd=REPO)
    deadline = time.monotonic() + 120
    while not adding.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert adding.exists(), "the push never reached its first add"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()


def test_the_next_push_closes_a_killed_push_run_as_killed(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.segment(world.people(3))
    kill_a_push_midway(world, tmp_path)
    [(killed_id, status, finished)] = world.sql("SELECT run_id, status, finished_at FROM ops.push_runs")
    assert (status, finished) == ("running", None)

    assert world.run(FakeClient(), dry_run=True).status == "ok"  # writes nothing, closes nothing
    assert world.sql("SELECT status FROM ops.push_runs") == [("running",)]

    noticed = datetime.now(UTC)
    result = world.run(FakeClient())
    assert result.status == "ok" and result.total("added") == 3
    runs = dict((run_id, (status, finished)) for run_id, status, finished in world.sql(
        "SELECT run_id, status, finished_at FROM ops.push_runs"))
    assert runs.keys() == {killed_id, result.run_id}
    status, finished = runs[killed_id]
    assert status == "killed" and noticed <= finished <= runs[result.run_id][1]
    assert runs[result.run_id][0] == "ok"
