"""durations.percentile_runs (the dashboard's percentiles over each month's ascending run of
microseconds) gives exactly durations.percentile of the same values as timedeltas."""

from __future__ import annotations

import random
from datetime import timedelta

from handlers.domain.durations import kth_smallest, percentile, percentile_runs


def test_runs_give_the_percentile_of_all_their_values() -> None:
    rng = random.Random(3)
    for _ in range(300):
        runs = [sorted(rng.choice([rng.randrange(0, 10**11), rng.randrange(0, 50)]) for _ in range(rng.randrange(0, 9)))
                for _ in range(rng.randrange(1, 6))]
        values = [v for run in runs for v in run]
        for fraction in (0.5, 0.9, 0.0, 1.0, 0.37):
            assert percentile_runs(runs, fraction) == percentile([timedelta(microseconds=v) for v in values], fraction)
        for k in range(len(values)):
            assert kth_smallest(runs, k) == sorted(values)[k]


def test_no_values_no_percentile() -> None:
    assert percentile_runs([], 0.5) is None
    assert percentile_runs([[], []], 0.9) is None
