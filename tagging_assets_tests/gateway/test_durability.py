"""Kill the gateway mid-batch (SIGKILL) and start it on the same state: nothing lost, nothing twice, and the
same tags for the same text on either side of the kill."""

from __future__ import annotations

import os
import signal
import subprocess
from collections import defaultdict

import pytest

from tagging_assets_tests.support import Gateway, jsonl, read_lines, request_line, submit, wait_for


@pytest.mark.subprocess
def test_sigkill_mid_batch_then_restart_completes_every_line_once(tmp_path, real_transcripts):
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    settings = {"seconds_per_line": 0.01}
    gateway = Gateway(state_dir, settings).start()
    client = gateway.client()
    lines = [
        request_line(f"youtube:{n}", real_transcripts[n % len(real_transcripts)]["transcript"][:3000])
        for n in range(400)
    ]
    batch = submit(client, jsonl(lines), metadata={"submission_id": "kill-test"})
    killed_at = []
    for _ in range(2):
        while (progress := client.batches.retrieve(batch.id)).request_counts.completed == 0:
            assert progress.status in ("validating", "in_progress")
        gateway.restart_after_kill()
        killed_at.append(client.batches.retrieve(batch.id).request_counts.completed)
    assert any(0 < completed < 400 for completed in killed_at), killed_at
    try:
        done = wait_for(client, batch.id)
        assert done.status == "completed"
        assert done.request_counts.model_dump() == {"total": 400, "completed": 400, "failed": 0}
        assert done.metadata == {"submission_id": "kill-test"}
        results = read_lines(client, done.output_file_id)
        assert len(results) == 400
        assert len({line["custom_id"] for line in results}) == 400
        assert {line["custom_id"] for line in results} == {line["custom_id"] for line in lines}
        assert done.usage.input_tokens == sum(line["response"]["body"]["usage"]["prompt_tokens"] for line in results)
        replies_by_transcript = defaultdict(set)
        for line in results:
            number = int(line["custom_id"].removeprefix("youtube:")) % len(real_transcripts)
            replies_by_transcript[number].add(line["response"]["body"]["choices"][0]["message"]["content"])
        assert all(len(replies) == 1 for replies in replies_by_transcript.values()), (
            "a transcript tagged before a kill and again after it got other tags: the batch's terms changed"
        )
        assert not list((state_dir / "files").glob("*.terms.json"))
    finally:
        gateway.stop()


def test_a_tagger_process_killed_mid_batch_is_replaced_and_the_batch_completes(start_gateway_process, tmp_path):
    gateway = start_gateway_process(seconds_per_line=0.02, workers=2)
    client = gateway.client()
    lines = [request_line(f"n{n}", "Mixture of experts routes tokens. Mixture of experts scales.") for n in range(300)]
    batch = submit(client, jsonl(lines))
    while client.batches.retrieve(batch.id).request_counts.completed == 0:
        pass
    taggers = subprocess.run(
        ["pgrep", "-f", "-P", str(gateway.pid), "spawn_main"], capture_output=True, text=True, check=True
    ).stdout.split()
    assert taggers
    os.kill(int(taggers[0]), signal.SIGKILL)
    done = wait_for(client, batch.id)
    assert done.status == "completed"
    assert done.request_counts.model_dump() == {"total": 300, "completed": 300, "failed": 0}
    assert sorted(line["custom_id"] for line in read_lines(client, done.output_file_id)) == sorted(
        line["custom_id"] for line in lines
    )
    assert "a tagger process died; starting new ones" in (tmp_path / "gateway-0.log").read_text()


def test_cancel_while_validating_ends_cancelled_with_nothing_run(start_gateway):
    client = start_gateway(validating_stall_seconds=1.0).client()
    batch = submit(client, jsonl([request_line("a", "Text about diffusion models.")]))
    assert client.batches.cancel(batch.id).status == "cancelling"
    done = wait_for(client, batch.id)
    assert done.status == "cancelled"
    assert (done.output_file_id, done.error_file_id, done.in_progress_at) == (None, None, None)
