"""A run killed at any moment resumes from its files: every request ends with exactly one line, the answered ones are
never sent again, and only what the killed run had in flight is sent twice. Killed in this process (an exception
out of ``send``) and for real (SIGKILL of a child process), plus a torn last line and a property over any script."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from tempfile import TemporaryDirectory

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tagging_assets.core.executor import HttpAnswer, Limits, RealtimeRequest, run_requests
from tagging_assets_tests.core.test_executor import (
    FLEX_BUSY,
    LOST,
    OK,
    QUOTA,
    TOO_LARGE,
    FakeClock,
    JsonLines,
    ScriptedServer,
    answer,
    custom_id,
    job_files,
    make_requests,
    run,
    written,
)

ROOT = Path(__file__).resolve().parents[2]


class Killed(BaseException):
    """What a kill looks like from inside: nothing catches it."""


@pytest.mark.parametrize("crash", [Killed, RuntimeError], ids=["kill", "a-bug-in-send"])
def test_a_run_that_dies_mid_way_resumes_sending_only_what_was_unanswered(tmp_path, crash):
    clock = FakeClock()
    server = ScriptedServer(clock)
    files = job_files(tmp_path)

    def dying(request: RealtimeRequest) -> HttpAnswer:
        reply = server(request)
        if len(server.received) > 25:
            raise crash("killed")
        return reply

    with pytest.raises(crash):
        run_requests(make_requests(100), dying, files=files, lines=JsonLines(), limits=Limits(max_concurrency=4))
    answered_first = set(written(files.output))
    in_flight = set(files.journal.read_text().split()) - answered_first
    assert 0 < len(answered_first) <= 25 and 1 <= len(in_flight) <= 4
    assert len(server.received) <= 25 + 4, "nothing new starts once a worker died"

    report = run(tmp_path, server, count=100)
    assert written(files.output) == {custom_id(index): 1 for index in range(100)}
    assert (report.answered_before, report.sent) == (len(answered_first), 100 - len(answered_first))
    assert report.resent_after_crash == len(in_flight)
    assert {sent for sent, times in server.sends().items() if times > 1} == in_flight
    assert max(server.sends().values()) == 2


def test_a_torn_last_line_is_cut_and_its_request_sent_again(tmp_path):
    files = job_files(tmp_path)
    files.output.parent.mkdir(parents=True)
    requests = list(make_requests(6))
    whole = [JsonLines().answered(request, OK)[0] for request in requests[:4]]
    files.output.write_bytes(b"\n".join(whole[:3]) + b"\n" + whole[3][:25])
    files.errors.write_bytes(b'{"custom_id": "youtube:v0')
    files.journal.write_bytes(("\n".join(request.custom_id for request in requests[:4]) + "\nyoutube:v0").encode())

    server = ScriptedServer(FakeClock())
    report = run(tmp_path, server, count=6)
    assert written(files.output) == {request.custom_id: 1 for request in requests}
    assert files.output.read_bytes().endswith(b"\n") and files.errors.read_bytes() == b""
    assert (report.answered_before, report.sent, report.resent_after_crash) == (3, 3, 1)
    assert server.sends() == {custom_id(index): 1 for index in (3, 4, 5)}


CHILD = """
import os, sys, time
from pathlib import Path
from tagging_assets.core.executor import Limits, run_requests
from tagging_assets_tests.core.test_executor import OK, JsonLines, job_files, make_requests

folder, log, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
seen = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT)

def send(request):
    os.write(seen, request.custom_id.encode() + b"\\n")
    time.sleep(0.05)
    return OK

run_requests(make_requests(count), send, files=job_files(folder), lines=JsonLines(), limits=Limits(max_concurrency=4))
"""


def complete_lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


@pytest.mark.subprocess
def test_a_process_killed_with_sigkill_resumes_with_one_line_per_request(tmp_path):
    files = job_files(tmp_path)
    log = tmp_path / "server-saw.txt"
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(tmp_path), str(log), "400"], env=environment)
    try:
        for _ in range(6000):
            if complete_lines(files.output) >= 40 or child.poll() is not None:
                break
            time.sleep(0.01)
        assert child.poll() is None, "the child finished before it could be killed"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait()
    assert 40 <= complete_lines(files.output) < 400
    journaled = set(files.journal.read_text().split())

    log_lock = threading.Lock()

    def send(request: RealtimeRequest) -> HttpAnswer:
        with log_lock, log.open("a") as seen:
            seen.write(request.custom_id + "\n")
        return OK

    report = run_requests(make_requests(400), send, files=files, lines=JsonLines(), limits=Limits(max_concurrency=4))
    assert written(files.output) == {custom_id(index): 1 for index in range(400)}
    assert report.answered_before + report.sent == 400 and report.answered_before >= 40
    server_saw = Counter(log.read_text().split())
    sent_twice = {sent for sent, times in server_saw.items() if times > 1}
    assert set(server_saw) == {custom_id(index) for index in range(400)}
    assert max(server_saw.values()) <= 2
    assert sent_twice <= journaled
    assert len(sent_twice) <= report.resent_after_crash <= 4


REPLIES = st.sampled_from(
    [OK, answer(400), answer(500), FLEX_BUSY, QUOTA, TOO_LARGE, LOST, answer(503, x_should_retry="false")]
)


@given(scripts=st.lists(st.lists(REPLIES, min_size=1, max_size=4), min_size=1, max_size=12))
@settings(max_examples=60, deadline=None)
def test_any_script_ends_each_request_with_exactly_one_line_or_unanswered_never_both(scripts):
    with TemporaryDirectory() as folder:
        server = ScriptedServer(FakeClock(), {custom_id(index): script for index, script in enumerate(scripts)})
        report = run(Path(folder), server, count=len(scripts), max_concurrency=3, max_retries=2)
        output, errors = written(job_files(Path(folder)).output), written(job_files(Path(folder)).errors)
    requests = {custom_id(index) for index in range(len(scripts))}
    lines = output + errors
    assert set(lines) <= requests and all(count == 1 for count in lines.values())
    assert (report.succeeded, report.failed) == (len(output), len(errors))
    assert report.unanswered == len(requests - set(lines))
    if report.stopped is None:
        assert report.unanswered == 0
    else:
        assert any(QUOTA in script for script in scripts)
