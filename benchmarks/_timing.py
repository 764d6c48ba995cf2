"""Timing shared by the benchmark scripts (run them as `python benchmarks/<name>.py`)."""

import time


def best(fn, repeat=3):
    """The fastest of `repeat` runs: on a shared machine, the least disturbed one."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)
