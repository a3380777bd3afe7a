"""Runs from threads of one process never share a staging folder: three prepare() calls into
one folder end with one complete folder and clear refusals, never a mix."""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

import voucher_import


def test_threads_preparing_into_one_folder_end_complete_or_refused(tmp_path: Path) -> None:
    for attempt in range(5):
        base = tmp_path / f"attempt-{attempt}"
        base.mkdir()
        out = base / "out"
        inputs = []
        for t in range(3):
            path = base / f"cards-{t}.csv"
            rows = "".join(f"T{t}-{i:05},true\n" for i in range(3000))
            path.write_text("Code,Active\n" + rows)
            inputs.append(path)
        outcomes: list[object] = [None] * 3

        def run(t: int) -> None:
            try:
                outcomes[t] = voucher_import.prepare(
                    inputs[t], campaign_type="discount", out=out, batch_rows=500
                )
            except voucher_import.VoucherImportError as error:
                outcomes[t] = error

        threads = [threading.Thread(target=run, args=(t,)) for t in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        done = [t for t in range(3) if isinstance(outcomes[t], voucher_import.Result)]
        assert len(done) == 1, outcomes
        for outcome in outcomes:
            if isinstance(outcome, voucher_import.VoucherImportError):
                assert isinstance(outcome, voucher_import.OutputError), outcome
        summary = json.loads((out / "summary.json").read_text())
        rows = 0
        for batch in summary["batches"]:
            data = (out / batch["path"]).read_bytes()
            assert hashlib.sha256(data).hexdigest() == batch["sha256"]
            for line in data.decode().splitlines()[1:]:
                assert line.startswith(f"T{done[0]}-"), line
                rows += 1
        assert rows == 3000 == summary["accepted"]
        assert not [p.name for p in base.iterdir() if p.name.startswith(".")]
