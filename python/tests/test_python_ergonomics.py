"""What a Python caller expects of `prepare()` beyond the command line's behaviour: `out=`
creates its missing parent folders; two runs of one process into one `out=` are refused with
an error naming the other run; messages spell options as keyword arguments; a string given
as `existing` that is not a file says how to pass codes."""

from __future__ import annotations

import threading
from pathlib import Path

import pyarrow as pa
import pytest

import voucher_import
from voucher_import import InputError, OutputError

SAMPLE = "fixtures/sample/gift_cards.csv"


def test_out_creates_its_missing_parent_folders(tmp_path: Path) -> None:
    out = tmp_path / "not" / "yet" / "there"
    result = voucher_import.prepare(SAMPLE, campaign_type="gift", out=out)
    assert result.folder == out
    assert (out / "summary.json").is_file()
    assert result.summary["accepted"] + result.summary["rejected"] == result.summary["input_rows"]


def test_out_whose_parent_cannot_be_made_is_an_output_error_naming_it(tmp_path: Path) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    with pytest.raises(OutputError) as raised:
        voucher_import.prepare(SAMPLE, campaign_type="gift", out=blocker / "sub" / "out")
    assert str(blocker) in raised.value.message
    assert not (blocker.parent / "sub").exists()


def test_two_runs_into_one_out_in_one_process_name_the_other_run(tmp_path: Path) -> None:
    out = tmp_path / "shared"
    schema = pa.schema([("Code", pa.string()), ("Gift Amount", pa.string())])
    started, release = threading.Event(), threading.Event()

    def batches():
        yield pa.record_batch([pa.array(["A-1"]), pa.array(["100"])], schema=schema)
        started.set()
        # Holds the first run inside the engine until the second one has been refused.
        release.wait(30)
        yield pa.record_batch([pa.array(["A-2"]), pa.array(["200"])], schema=schema)

    first: dict = {}

    def run_first() -> None:
        try:
            reader = pa.RecordBatchReader.from_batches(schema, batches())
            first["result"] = voucher_import.prepare(reader, campaign_type="gift", out=out)
        except BaseException as error:  # noqa: BLE001 - handed to the test's thread
            first["error"] = error

    thread = threading.Thread(target=run_first, name="first-run")
    thread.start()
    try:
        assert started.wait(30), "the first run did not start reading"
        with pytest.raises(OutputError) as raised:
            voucher_import.prepare(SAMPLE, campaign_type="gift", out=out)
        message = str(raised.value)
        assert "another run of this process" in message
        assert "first-run" in message
        assert "File exists" not in message
    finally:
        release.set()
        thread.join(60)
    assert "error" not in first, first.get("error")
    assert first["result"].summary["accepted"] == 2
    # Once the first run ended, the folder is free again (force: it holds the first output).
    again = voucher_import.prepare(SAMPLE, campaign_type="gift", out=out, force=True)
    assert again.folder == out


def test_messages_spell_options_as_keyword_arguments(tmp_path: Path) -> None:
    out = tmp_path / "taken"
    out.mkdir()
    (out / "someone_elses.txt").write_text("keep me")
    with pytest.raises(OutputError) as raised:
        voucher_import.prepare(SAMPLE, campaign_type="gift", out=out)
    error = raised.value
    assert "--force" not in str(error) and "--out" not in str(error)
    assert "force=True" in (error.fix or "")
    assert (out / "someone_elses.txt").read_text() == "keep me"


def test_an_existing_string_that_is_not_a_file_says_how_to_pass_codes() -> None:
    with pytest.raises(InputError) as raised:
        voucher_import.prepare(SAMPLE, campaign_type="gift", existing="GC-0001")
    assert "no such file" in raised.value.message
    assert "existing=['GC-0001']" in (raised.value.fix or "")


def test_keyword_spelling_of_each_option_form() -> None:
    from voucher_import.errors import keyword_spelling
    from voucher_import import _native

    options = _native.prepare_options()
    assert keyword_spelling("pass --force to replace it", options) == "pass force=True to replace it"
    assert keyword_spelling("give --dates-in ZONE", options) == "give dates_in=ZONE"
    assert keyword_spelling("(--canary-rows N to size it", options) == "(canary_rows=N to size it"
    assert keyword_spelling("use --amount-unit=major", options) == "use amount_unit='major'"
    assert keyword_spelling("--max-rejected <LIMIT>", options) == "max_rejected=LIMIT"
    assert keyword_spelling("choose a new --out folder", options) == "choose a new out folder"
    # What prepare() does not take stays as the command line spells it.
    assert keyword_spelling("see --no-such-option", options) == "see --no-such-option"
