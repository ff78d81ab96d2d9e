"""tools/dqs-py, the other program kept to prove the docs complete (docs/format.md), on the import path.

It is imported, not copied: one reading of the format then answers for both the files (its own tests) and the
fleet (this device's), and a fix to it cannot miss one of them. Its modules come in as `dqs`, `dql` (its layers.py)
and `dqs_device` (its device.py, renamed: this folder has a device.py of its own)."""
import importlib.util
import sys
from pathlib import Path

_DQS_PY = Path(__file__).resolve().parent.parent / "dqs-py"
# Appended, not prepended: this folder's modules keep their names.
if str(_DQS_PY) not in sys.path:
    sys.path.append(str(_DQS_PY))

import dqs  # noqa: E402,F401
import layers as dql  # noqa: E402,F401

_spec = importlib.util.spec_from_file_location("dqs_device", _DQS_PY / "device.py")
dqs_device = importlib.util.module_from_spec(_spec)
sys.modules["dqs_device"] = dqs_device  # its dataclasses look their module up there
_spec.loader.exec_module(dqs_device)
