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


def best_pair(first, second, repeat=3):
    """Best times of two functions run in turns: on a shared machine, load then hits both alike."""
    times = [(best(first, 1), best(second, 1)) for _ in range(repeat)]
    return min(t for t, _ in times), min(t for _, t in times)
