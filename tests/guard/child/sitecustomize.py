"""Loaded at start-up by every Python process the tests start (this folder is put on their
PYTHONPATH by tests/guard/plugin.py): the same network guard as the test process, reporting
what it refused to the file the tests read. Only this file is on that path, so nothing else of
ours can shadow a module of the child's."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

_spec = importlib.util.spec_from_file_location("_fengshan_netguard", Path(__file__).resolve().parent.parent / "netguard.py")
if _spec is not None and _spec.loader is not None:
    _netguard = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(_netguard)
    _netguard.install(os.environ.get(_netguard.LOG_VARIABLE))
