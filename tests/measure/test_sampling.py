"""The psutil sampler on real process trees, and live samples from a run under pytest-xdist."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys

import pytest

from tests.conftest import wait_for
from testwatch.collectors.in_testwatch.process_sampler import ProcessTreeSampler
from testwatch.measure.sampling import Downsampler

SPAWN_TWO = (
    "import subprocess, sys, time\n"
    "kids = [subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']) for _ in range(2)]\n"
    "print('ready', flush=True)\n"
    "time.sleep(60)\n"
)


@pytest.fixture
def tree():
    parent = subprocess.Popen([sys.executable, "-c", SPAWN_TWO], stdout=subprocess.PIPE, text=True,
                              start_new_session=True)
    assert parent.stdout.readline().strip() == "ready"
    yield parent
    with contextlib.suppress(ProcessLookupError):
        os.killpg(parent.pid, signal.SIGKILL)
    parent.wait()


def test_a_tree_is_summed_and_cpu_is_measured_between_samples(tree):
    sampler = ProcessTreeSampler(tree.pid)
    first = wait_for(lambda: (s := sampler.sample()) and s.processes == 3 and s)
    assert first.rss_bytes > 3 * 1024 * 1024
    assert first.threads >= 3
    second = sampler.sample()
    assert second.cpu_percent >= 0.0 and second.t_s > first.t_s


def test_a_vanished_root_gives_no_sample_instead_of_an_error(tree):
    sampler = ProcessTreeSampler(tree.pid)
    assert sampler.sample() is not None
    os.killpg(tree.pid, signal.SIGKILL)
    tree.wait()
    assert sampler.sample() is None


def test_the_downsampler_keeps_peaks_and_halves_the_rate_per_level():
    downsampler = Downsampler(per_level=4)
    kept = [row for i in range(20) if (row := downsampler.add({"rss_bytes": i % 3, "i": i}))]
    # 4 kept at stride 1, then 4 at stride 2 (each the larger of two), then the rest at stride 4.
    assert [row["i"] for row in kept[:4]] == [0, 1, 2, 3]
    assert [row["i"] for row in kept[4:8]] == [5, 7, 8, 11]
    assert downsampler.stride == 4


def test_xdist_workers_are_sampled_as_one_tree_and_report_their_own_memory(make_project, cli, rows):
    root = make_project({
        "pyproject.toml": '[tool.testwatch]\nsample_interval = "50 ms"\n',
        "tests/test_workers.py": """
            import time

            import pytest


            @pytest.mark.parametrize("n", range(4))
            def test_holds_memory_for_a_while(n):
                data = bytearray(30 * 1024 * 1024)
                data[::4096] = b"\\1" * len(data[::4096])
                time.sleep(0.5)
        """,
    })
    done = cli("run", str(root), "--json", "--", "-n", "2")
    events = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    samples = [e for e in events if e["event"] == "MemorySampled"]
    assert samples, done.stdout[-2000:] + done.stderr
    # The controller and its two workers (execnet may add none): one tree of at least 3 processes.
    assert max(s["processes"] for s in samples) >= 3
    assert any(s["nodeid"] and "test_holds_memory" in s["nodeid"] for s in samples)
    results = rows(root, "select worker, peak_growth_bytes from results")
    assert len(results) == 4 and {r["worker"] for r in results} <= {"gw0", "gw1"}
    assert all(r["peak_growth_bytes"] >= 25 * 1024 * 1024 for r in results)
    stored = rows(root, "select count(*) as n, max(processes) as p from samples")[0]
    assert stored["n"] >= 1 and stored["p"] >= 3
