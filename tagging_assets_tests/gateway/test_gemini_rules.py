"""Where the gateway's Gemini API must be as strict as Google's and no stricter: limits that belong to other
protocols do not reach a Gemini job, and Gemini's own rules are enforced in Google's terms."""

from __future__ import annotations

from tagging_assets_tests.gateway.test_gemini_batches import KEY, TEXTS, ended, file_line, upload_lines


def test_openais_input_size_limit_does_not_reach_a_gemini_job(start_gateway):
    gateway = start_gateway(KEY, max_input_bytes=64)
    client = gateway.gemini_client()
    uploaded = upload_lines(client, [file_line(f"k{n}", text) for n, text in enumerate(TEXTS)])
    assert uploaded.size_bytes > 64
    done = ended(client, client.batches.create(model="gemini-2.5-flash", src=uploaded.name).name)
    assert done.state.name == "JOB_STATE_SUCCEEDED"
    seen = gateway.wait_until(done.name)
    assert seen["status"] == "completed" and seen["completed"] == 3
