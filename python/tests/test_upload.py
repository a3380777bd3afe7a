"""upload() against a fake Voucherify on 127.0.0.1: the batches go in once, the outcome is
upload --json's, credentials come from the environment and never show in an error."""

from __future__ import annotations

import csv
import io
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

import voucher_import
from conftest import ctrl_c

APP_ID = "app-id-1"
TOKEN = "secret-token-do-not-show"


class FakeVoucherify(BaseHTTPRequestHandler):
    """importCSV, async-actions (one job each) and the list of jobs, as documented."""

    jobs: Dict[str, int] = {}
    posts: List[str] = []
    hang = False

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def answer(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def authorized(self) -> bool:
        return self.headers.get("X-App-Id") == APP_ID and self.headers.get("X-App-Token") == TOKEN

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if not self.authorized():
            return self.answer(401, {"code": 401, "key": "unauthorized", "message": "Unauthorized"})
        if self.path == "/v1/exports":
            return self.answer(200, {"id": "exp_1", "object": "export", "status": "SCHEDULED"})
        if self.path != "/v1/campaigns/camp_1/importCSV":
            return self.answer(404, {"code": 404, "key": "not_found"})
        text = body.decode("utf-8", "replace")
        csv_part = text.split("\r\n\r\n", 1)[1].rsplit("\r\n--", 1)[0]
        rows = len(list(csv.reader(io.StringIO(csv_part)))) - 1
        job = f"aa_{len(self.jobs) + 1}"
        self.jobs[job] = rows
        self.posts.append(job)
        self.answer(202, {"async_action_id": job})

    def do_DELETE(self) -> None:
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        if not self.authorized():
            return self.answer(401, {"code": 401, "key": "unauthorized", "message": "Unauthorized"})
        if self.path.startswith("/v1/async-actions/"):
            job = self.path.rsplit("/", 1)[1]
            rows = self.jobs.get(job)
            if rows is None:
                return self.answer(404, {"code": 404, "key": "not_found"})
            if self.hang:
                return self.answer(200, {"id": job, "type": "CAMPAIGN.VOUCHERS_IMPORT_CSV",
                                         "status": "IN_PROGRESS", "progress": 40})
            return self.answer(200, {
                "id": job, "type": "CAMPAIGN.VOUCHERS_IMPORT_CSV", "status": "DONE", "progress": 100,
                "result": {"message": f"{rows} voucher(s) imported successfully", "failed": [],
                           "done_count": rows, "failed_count": 0},
            })
        if self.path.startswith("/v1/async-actions"):
            return self.answer(200, {"object": "list", "data_ref": "async_actions",
                                     "async_actions": [], "has_more": False})
        if self.path == "/v1/campaigns/camp_1":
            return self.answer(200, {"id": "camp_1", "name": "Gift cards", "object": "campaign",
                                     "campaign_type": "GIFT_VOUCHERS", "vouchers_count": 0,
                                     "active": True})
        if self.path == "/v1/metadata-schemas":
            return self.answer(200, {"object": "list", "data_ref": "schemas", "schemas": [],
                                     "total": 0})
        if self.path.startswith("/v1/exports/exp_1?token="):
            data = "Code\nGC-0002\n".encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/csv")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return None
        if self.path == "/v1/exports/exp_1":
            host, port = self.server.server_address[:2]
            url = f"http://{host}:{port}/v1/exports/exp_1?token=t"
            return self.answer(200, {"id": "exp_1", "object": "export", "status": "DONE",
                                     "result": {"url": url}})
        self.answer(404, {"code": 404, "key": "not_found"})


@pytest.fixture()
def fake() -> Iterator[str]:
    FakeVoucherify.jobs = {}
    FakeVoucherify.posts = []
    FakeVoucherify.hang = False
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeVoucherify)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture()
def prepared(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    voucher_import.prepare("fixtures/sample/gift_cards.csv", campaign_type="gift", out=out)
    return out


def test_upload_posts_each_batch_once_and_resumes(
    fake: str, prepared: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOUCHERIFY_APP_ID", APP_ID)
    monkeypatch.setenv("VOUCHERIFY_APP_TOKEN", TOKEN)
    outcome = voucher_import.upload(prepared, "camp_1", api_url=fake, verify=0, poll_ms=10)
    assert outcome["schema_version"] == 1
    assert outcome["campaign"] == "camp_1"
    assert (outcome["batches_done"], outcome["batches_failed"]) == (1, 0)
    assert outcome["codes_imported"] == 11
    assert FakeVoucherify.posts == ["aa_1"]
    assert json.loads((prepared / "upload.json").read_text())["schema_version"] == 1
    # Again: nothing is posted twice.
    again = voucher_import.upload(prepared, "camp_1", api_url=fake, verify=0, poll_ms=10)
    assert again["batches_done"] == 1
    assert FakeVoucherify.posts == ["aa_1"]


def test_options_come_from_the_environment_too(
    fake: str, prepared: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOUCHERIFY_APP_ID", APP_ID)
    monkeypatch.setenv("VOUCHERIFY_APP_TOKEN", TOKEN)
    monkeypatch.setenv("VOUCHER_IMPORT_API_URL", fake)
    monkeypatch.setenv("VOUCHER_IMPORT_DRY_RUN", "true")
    outcome = voucher_import.upload(prepared, "camp_1", verify=0)
    assert outcome["dry_run"] is True
    assert FakeVoucherify.posts == []


def test_missing_or_wrong_credentials(fake: str, prepared: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(voucher_import.UsageError) as raised:
        voucher_import.upload(prepared, "camp_1", api_url=fake, verify=0)
    assert "VOUCHERIFY_APP_TOKEN" in str(raised.value)
    monkeypatch.setenv("VOUCHERIFY_APP_ID", APP_ID)
    monkeypatch.setenv("VOUCHERIFY_APP_TOKEN", "wrong-" + TOKEN)
    with pytest.raises(voucher_import.VoucherImportError) as raised:
        voucher_import.upload(prepared, "camp_1", api_url=fake, verify=0, poll_ms=10)
    assert raised.value.kind in ("upload", "usage")
    assert TOKEN not in str(raised.value) and TOKEN not in repr(raised.value.__dict__)
    with pytest.raises(voucher_import.UsageError) as raised:
        voucher_import.upload(prepared, "camp_1", api_url=fake, parallel=99)
    assert "parallel" in raised.value.message


def test_ctrl_c_stops_an_upload_that_resumes_without_posting_twice(
    fake: str, prepared: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import subprocess
    import sys
    import time

    FakeVoucherify.hang = True  # jobs stay IN_PROGRESS
    script = tmp_path / "upload.py"
    script.write_text(
        "import sys, voucher_import\n"
        "try:\n"
        "    voucher_import.upload(sys.argv[1], 'camp_1', api_url=sys.argv[2], verify=0,"
        " poll_ms=20, poll_max_ms=50)\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted', flush=True)\n"
        "    sys.exit(3)\n"
    )
    env = dict(os.environ, VOUCHERIFY_APP_ID=APP_ID, VOUCHERIFY_APP_TOKEN=TOKEN)
    child = subprocess.Popen(
        [sys.executable, str(script), str(prepared), fake],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    deadline = time.monotonic() + 30
    while not FakeVoucherify.posts and time.monotonic() < deadline:
        time.sleep(0.05)
    assert FakeVoucherify.posts == ["aa_1"]
    time.sleep(0.3)
    stdout, stderr = ctrl_c(child, "the upload")
    assert child.returncode == 3, stderr
    assert stdout.strip() == "interrupted"
    state = json.loads((prepared / "upload.json").read_text())
    assert state["batches"][0]["async_action_id"] == "aa_1"
    # Resumed: the job finishes, nothing is posted again.
    FakeVoucherify.hang = False
    monkeypatch.setenv("VOUCHERIFY_APP_ID", APP_ID)
    monkeypatch.setenv("VOUCHERIFY_APP_TOKEN", TOKEN)
    outcome = voucher_import.upload(prepared, "camp_1", api_url=fake, verify=0, poll_ms=10)
    assert outcome["batches_done"] == 1
    assert FakeVoucherify.posts == ["aa_1"]


def test_import_reads_the_project_prepares_and_uploads(
    fake: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOUCHERIFY_APP_ID", APP_ID)
    monkeypatch.setenv("VOUCHERIFY_APP_TOKEN", TOKEN)
    out = tmp_path / "out"
    imported = voucher_import.import_(
        "fixtures/sample/gift_cards.csv", "camp_1", out, api_url=fake, verify=0, poll_ms=10
    )
    assert imported.prepared is not None
    summary = imported.prepared.summary
    assert summary["project"]["existing"]["codes"] == 1
    assert summary["rejected_by_rule"]["existing_code"] >= 1
    assert imported.uploaded["batches_done"] == 1
    assert FakeVoucherify.posts == ["aa_1"]
    # Again: the upload resumes, nothing is prepared or posted twice.
    again = voucher_import.import_(
        "fixtures/sample/gift_cards.csv", "camp_1", out, api_url=fake, verify=0, poll_ms=10
    )
    assert again.prepared is None
    assert FakeVoucherify.posts == ["aa_1"]
