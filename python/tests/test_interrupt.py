"""Ctrl-C stops a run: KeyboardInterrupt is raised within moments, the engine stops (its
cancellation handle), and the folder being written is removed."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from conftest import ROOT, ctrl_c, python

SCRIPT = r"""
import itertools, sys
import pyarrow as pa
import voucher_import

schema = pa.schema([("Code", pa.string())])

def endless():
    for i in itertools.count():
        if i == 20:
            print("started", flush=True)
        yield pa.record_batch([pa.array([f"C-{i}-{j}" for j in range(1000)])], schema=schema)

reader = pa.RecordBatchReader.from_batches(schema, endless())
try:
    voucher_import.prepare(reader, campaign_type="discount", out=sys.argv[1], campaign_limit=10**12)
except KeyboardInterrupt:
    print("interrupted", flush=True)
    sys.exit(3)
print("finished", flush=True)
"""


def test_ctrl_c_stops_an_endless_run_and_leaves_no_folder(tmp_path: Path) -> None:
    script = tmp_path / "endless.py"
    script.write_text(SCRIPT)
    work = tmp_path / "work"
    work.mkdir()
    out = work / "out"
    child = subprocess.Popen(
        [python(), str(script), str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, cwd=ROOT,
    )
    assert child.stdout is not None
    line = child.stdout.readline()
    assert line.strip() == "started", child.stderr.read() if child.stderr else ""
    time.sleep(0.3)
    asked = time.monotonic()
    stdout, stderr = ctrl_c(child, "the run")
    assert child.returncode == 3, stderr
    assert stdout.strip() == "interrupted"
    assert time.monotonic() - asked < 10
    # Nothing written, and no staging folder left beside it.
    assert list(work.iterdir()) == []
