"""The child-side peak meters, in this process: the exact kernel one and the sampled fallback."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from testwatch.collectors.in_pytest import peak_memory

MIB = 1024 * 1024


def _allocate_and_free(size_bytes: int, hold_s: float) -> None:
    data = bytearray(size_bytes)
    data[::4096] = b"\1" * len(data[::4096])
    time.sleep(hold_s)
    del data


@pytest.mark.parametrize("meter_class", [peak_memory._KernelPeak, peak_memory._SampledPeak])
def test_a_freed_allocation_shows_as_peak_not_as_retained(meter_class):
    meter = meter_class()
    before = meter.start()
    _allocate_and_free(60 * MIB, hold_s=0.05)
    peak, after = meter.stop()
    assert 55 * MIB <= peak - before <= 70 * MIB
    assert abs(after - before) < 10 * MIB


def test_the_kernel_meter_resets_between_tests():
    meter = peak_memory._KernelPeak()
    before = meter.start()
    _allocate_and_free(60 * MIB, hold_s=0)
    meter.stop()
    before = meter.start()  # the next test starts from the current RSS, not the old peak
    peak, _ = meter.stop()
    assert peak - before < 5 * MIB


# RUSAGE_SELF's peak starts at the peak of the process that started this one, so whether the
# cheap path applies depends on the parent: the script starts itself once, after reaching
# ALLOCATE_FIRST_MB (a small parent like `testwatch run`, or a big one like the TUI).
_MEASURE_IN_FRESH_PROCESS = """
import os, subprocess, sys
if not os.environ.get("STARTED_BY_SCRIPT"):
    data = bytearray(int(os.environ["ALLOCATE_FIRST_MB"]) * 1024 * 1024)
    data[::4096] = b"\\1" * len(data[::4096])
    del data
    env = {**os.environ, "STARTED_BY_SCRIPT": "1"}
    sys.exit(subprocess.run([sys.executable, *sys.argv], env=env).returncode)
from testwatch.collectors.in_pytest import peak_memory
meter = peak_memory._KernelPeak()
before = meter.start()
data = bytearray(20 * 1024 * 1024)
data[::4096] = b"\\1" * len(data[::4096])
del data
peak, after = meter.stop()
print(meter._peak_in_rusage, (peak - before) // 1024 // 1024, (after - before) // 1024 // 1024)
"""


@pytest.mark.parametrize(("parent_mb", "cheap_path"), [(0, True), (300, False)])
def test_the_kernel_meter_is_exact_whichever_process_started_pytest(tmp_path, parent_mb, cheap_path):
    script = tmp_path / "measure.py"
    script.write_text(_MEASURE_IN_FRESH_PROCESS)
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, check=True,
        env={**os.environ, "ALLOCATE_FIRST_MB": str(parent_mb)},
    )
    used_rusage, peak_mb, retained_mb = done.stdout.split()
    assert 19 <= int(peak_mb) <= 24  # not the 300 MB the parent reached
    assert abs(int(retained_mb)) < 5
    assert used_rusage == str(cheap_path)
