"""`python -m voucher_import` (and the `voucher-import` script the wheel installs) is the command
line: the same subcommands, outputs, environment variables and exit codes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import List

import voucher_import
from conftest import ctrl_c, golden_summary, normalized_summary, python

SAMPLE = "fixtures/sample/gift_cards.csv"


def run(args: List[str], env: dict = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [python(), "-m", "voucher_import", *args], capture_output=True, text=True, env=env
    )


def test_version_and_help() -> None:
    done = run(["--version"])
    assert done.returncode == 0
    assert done.stdout.strip() == f"voucher-import {voucher_import.__version__}"
    done = run(["prepare", "--help"])
    assert done.returncode == 0 and "--max-rejected" in done.stdout


def test_prepare_writes_the_golden_folder_and_prints_the_summary(tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = run(
        ["prepare", SAMPLE, "--campaign-type", "gift", "--existing",
         "fixtures/sample/existing_codes.csv", "--out", str(out), "--json"]
    )
    assert done.returncode == 1, done.stderr
    printed = json.loads(done.stdout)
    assert normalized_summary(printed) == golden_summary("sample_gift_cards")
    assert json.loads((out / "summary.json").read_text()) == printed
    assert "accepted" in done.stderr  # the summary on stderr


def test_exit_codes_and_errors_as_json(tmp_path: Path) -> None:
    done = run(["prepare", str(tmp_path / "nope.csv"), "--campaign-type", "gift",
                "--out", str(tmp_path / "out"), "--json"])
    assert done.returncode == 2
    error = json.loads(done.stdout)["error"]
    assert error["kind"] in ("input", "io") and "nope.csv" in error["path"]
    assert not (tmp_path / "out").exists()
    done = run(["prepare", SAMPLE, "--campaign-type", "gift", "--out", str(tmp_path / "o2"),
                "--max-rejected", "100%", "--quiet"])
    assert done.returncode == 0, done.stderr
    done = run(["prepare", SAMPLE, "--bogus"])
    assert done.returncode == 2


def test_environment_variables_reach_the_command_line(tmp_path: Path) -> None:
    env = dict(os.environ, VOUCHER_IMPORT_CAMPAIGN_TYPE="gift", VOUCHER_IMPORT_QUIET="true")
    done = run(["prepare", SAMPLE, "--out", str(tmp_path / "out")], env=env)
    assert done.returncode == 1, done.stderr
    assert done.stderr == ""


def test_the_installed_script_is_the_same_command(tmp_path: Path) -> None:
    script = shutil.which("voucher-import", path=str(Path(sys.executable).parent))
    assert script, "the wheel installs a voucher-import script beside python"
    done = subprocess.run([script, "rules", "--names"], capture_output=True, text=True)
    assert done.returncode == 0
    assert "duplicate_code" in done.stdout.split()


def test_ctrl_c_stops_the_command_with_130_and_no_folder(tmp_path: Path) -> None:
    import time

    out = tmp_path / "out"
    child = subprocess.Popen(
        [python(), "-m", "voucher_import", "prepare", "-", "--campaign-type", "gift",
         "--out", str(out), "--quiet"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert child.stdin is not None
    child.stdin.write("Code,Gift Amount\n" + "".join(f"C-{i},100\n" for i in range(50_000)))
    child.stdin.flush()  # stdin stays open: the run waits for more rows
    time.sleep(1.0)
    _, stderr = ctrl_c(child, "the command")
    assert child.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert list(tmp_path.iterdir()) == []


def test_verbose_logs_to_stderr(tmp_path: Path) -> None:
    done = run(["-v", "prepare", SAMPLE, "--campaign-type", "gift", "--out", str(tmp_path / "o"),
                "--quiet"])
    assert done.returncode == 1
    assert "planned: 1 inputs" in done.stderr
