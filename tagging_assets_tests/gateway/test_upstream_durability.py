"""Kill a gateway that answers through an upstream mid-batch (SIGKILL) and start it on the same state: every line
ends with one result, and the upstream saw each request once, except those in flight at a kill."""

from __future__ import annotations

from collections import Counter

import pytest

from tagging_assets_tests.support import InProcessGateway, jsonl, read_lines, request_line, submit, wait_for

CONCURRENCY = 4


@pytest.mark.subprocess
def test_sigkill_mid_batch_then_restart_sends_only_the_requests_in_flight_again(
    start_gateway_process, tagger_pools, tmp_path
):
    (tmp_path / "model-server").mkdir()
    with InProcessGateway(tmp_path / "model-server", {"latency_seconds": 0.03}, pools=tagger_pools) as model_server:
        check_kills(model_server, start_gateway_process)


def check_kills(model_server, start_gateway_process):
    gateway = start_gateway_process(upstream=model_server.base_url, upstream_concurrency=CONCURRENCY)
    client = gateway.client()
    lines = [request_line(f"line-{n}", f"Attention heads and transformers, talk {n}.") for n in range(240)]
    batch = submit(client, jsonl(lines))
    kills = 2
    completed_at_kill = [0]
    for _ in range(kills):
        while (progress := client.batches.retrieve(batch.id)).request_counts.completed <= completed_at_kill[-1]:
            assert progress.status in ("validating", "in_progress")
        gateway.restart_after_kill()
        completed_at_kill.append(client.batches.retrieve(batch.id).request_counts.completed)
    assert any(0 < completed < len(lines) for completed in completed_at_kill), completed_at_kill

    done = wait_for(client, batch.id)
    assert done.status == "completed"
    assert done.request_counts.model_dump() == {"total": 240, "completed": 240, "failed": 0}
    results = read_lines(client, done.output_file_id)
    assert Counter(line["custom_id"] for line in results) == Counter(line["custom_id"] for line in lines)
    received = Counter(model_server.realtime_arrivals()["received"])
    assert set(received) == {line["custom_id"] for line in lines}
    sent_again = sum(count - 1 for count in received.values())
    assert sent_again <= kills * CONCURRENCY, received.most_common(kills * CONCURRENCY + 1)
    assert not (gateway.state_dir / "upstream" / batch.id).exists()
