"""The child-side peak meters, in this process: the exact kernel one and the sampled fallback."""

from __future__ import annotations

import time

import pytest

from testwatch.collectors import peak_memory

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
