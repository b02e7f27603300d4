"""`python -m bot …` with its database round trips counted (bench/db_trips.py; benchmarks only).

    BENCH_DB_TRIPS=1 PYTHONPATH=. .venv/bin/python -m bench.wechat_callbacks
"""

from __future__ import annotations

import sys

from bench import db_trips
from bot.cli import main

if __name__ == "__main__":
    db_trips.install()
    sys.exit(main())
