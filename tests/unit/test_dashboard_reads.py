"""The dashboard's reads: durations.kth_smallest (it finds its percentiles' ranks among each month's
ascending run of whole seconds) is the k-th value of the runs together."""

from __future__ import annotations

import random

from handlers.domain.durations import kth_smallest
from storage.rate_facts import WHITESPACE


def test_kth_of_runs_is_the_kth_of_all_their_values() -> None:
    rng = random.Random(3)
    for _ in range(300):
        runs = [sorted(rng.choice([rng.randrange(0, 10**11), rng.randrange(0, 50)]) for _ in range(rng.randrange(0, 9)))
                for _ in range(rng.randrange(1, 6))]
        values = [v for run in runs for v in run]
        for k in range(len(values)):
            assert kth_smallest(runs, k) == sorted(values)[k]


def test_blank_reasons_are_what_strip_strips() -> None:
    """storage/rate_facts judges a 不满意 reason blank as the page did (`not note.strip()`)."""
    assert "".join(c for c in map(chr, range(0x110000)) if c.isspace()) == WHITESPACE
