"""BatchProcessor end to end: the real openai SDK against the gateway, and embedded Qdrant."""

import pytest

from tagging_assets.batches.processor import BatchProcessor
from tagging_assets.core.cache import QdrantCache
from tagging_assets.core.contracts import TaggingOutput, TaggingState, TokenUsage
from tagging_assets.core.errors import BatchError, InputError
from tagging_assets.core.settings import TaggingSettings
from tagging_assets.seed.seeding import point_id_for
from tagging_assets_tests.reading import stored_payloads, stored_payloads_by_id
from tagging_assets_tests.support import wait_for

FIELDS = ["video_id", "title", "transcript", "type", "channel", "url", "published_at"]


def _processor(cache, gateway, tmp_path):
    return BatchProcessor(cache, gateway.client(), work_dir=tmp_path / "work")


def test_prepare_submit_status_process_writes_tags_and_nothing_else(
    shared_gateway, seeded_cache, tmp_path, real_transcripts
):
    with QdrantCache.connect("nate_content", path=seeded_cache) as cache:
        before = {point.id: point for point in cache.client.scroll("nate_content", limit=100, with_vectors=True)[0]}
        processor = _processor(cache, shared_gateway, tmp_path)
        assert processor.prepare_batch_input(output_file=tmp_path / "input.jsonl") == 40
        batch_id = processor.submit_batch(tmp_path / "input.jsonl")
        assert processor.submit_batch(tmp_path / "input.jsonl") == batch_id, "the same bytes are submitted once"
        pending = stored_payloads_by_id(cache, [point_id_for(real_transcripts[0]["video_id"])], ["tagging"])
        assert next(iter(pending.values()))["tagging"]["status"] == "pending"
        wait_for(shared_gateway.client(), batch_id)
        status = processor.check_status(batch_id)
        assert (status["status"], status["progress_pct"], status["total"]) == ("completed", 100.0, 40)
        summary = processor.process_results(batch_id)
        after = {point.id: point for point in cache.client.scroll("nate_content", limit=100, with_vectors=True)[0]}
        again = processor.process_results(batch_id)
        after_again = {point.id: point.payload for point in cache.client.scroll("nate_content", limit=100)[0]}
        assert processor.prepare_batch_input(output_file=tmp_path / "rerun.jsonl") == 0
    assert (summary["tagged"], summary["failed"], summary["submitted"]) == (40, 0, 40)
    assert summary["input_tokens"] > 0 and 0 < summary["cost_batch_usd"] < summary["cost_realtime_usd"]
    assert summary["cost_batch_usd"] == pytest.approx(summary["cost_realtime_usd"] / 2, abs=1e-6)
    for point_id, point in after.items():
        assert point.vector == before[point_id].vector
        assert {key: point.payload.get(key) for key in FIELDS} == {
            key: before[point_id].payload.get(key) for key in FIELDS
        }
        assert set(point.payload) - set(before[point_id].payload) == {"tags", "summary", "tagging"}
        TaggingOutput(tags=point.payload["tags"], summary=point.payload["summary"])
        assert set(point.payload["tagging"]) == set(TaggingState.model_fields)
        state = TaggingState.model_validate(point.payload["tagging"], strict=True)
        assert (state.status, state.batch_id, state.attempts, state.model) == ("tagged", batch_id, 1, "gpt-4o-mini")
        assert state.content_hash and state.prompt_version and state.updated_at and state.input_tokens > 0
    assert again == summary
    assert after_again == {point_id: point.payload for point_id, point in after.items()}, (
        "processing twice changes nothing"
    )


def test_failed_lines_are_recorded_with_their_reason(start_gateway, seeded_cache, tmp_path):
    gateway = start_gateway(line_error_rate=0.25, line_error_status=500, invalid_json_rate=0.1)
    with QdrantCache.connect("nate_content", path=seeded_cache) as cache:
        processor = _processor(cache, gateway, tmp_path)
        processor.prepare_batch_input(output_file=tmp_path / "input.jsonl")
        batch_id = processor.submit_batch(tmp_path / "input.jsonl")
        wait_for(gateway.client(), batch_id)
        summary = processor.process_results(batch_id)
        states = [payload["tagging"] for _, payload in stored_payloads(cache, ["tagging"])]
    assert summary["tagged"] + summary["failed"] == 40
    assert set(summary["failed_by_reason"]) <= {"http_500", "invalid_json"} and summary["failed"] > 0
    failed = [state for state in states if state["status"] == "failed"]
    assert len(failed) == summary["failed"]
    assert all(state["error"] and state["attempts"] == 1 for state in failed)
    assert all(set(state) == set(TaggingState.model_fields) for state in states)
    assert all(TaggingState.model_validate(state, strict=True).status == state["status"] for state in states)


def test_processing_a_batch_this_work_dir_never_submitted_says_so(shared_gateway, tmp_path):
    processor = BatchProcessor(None, shared_gateway.client(), work_dir=tmp_path / "elsewhere")
    with pytest.raises(BatchError, match="no record of batch batch_x"):
        processor.process_results("batch_x")


def test_submitting_nothing_or_a_missing_file_is_a_clear_error(shared_gateway, seeded_cache, tmp_path):
    with QdrantCache.connect("nate_content", path=seeded_cache) as cache:
        processor = _processor(cache, shared_gateway, tmp_path)
        with pytest.raises(InputError, match="no input file"):
            processor.submit_batch(tmp_path / "missing.jsonl")
        (tmp_path / "empty.jsonl").write_text("")
        (tmp_path / "empty.index.jsonl").write_text("")
        with pytest.raises(InputError, match="holds no requests"):
            processor.submit_batch(tmp_path / "empty.jsonl")


def test_cached_input_and_reasoning_are_read_from_usage_and_priced_as_billed(shared_gateway, seeded_cache, tmp_path):
    """A system prompt past 1,024 tokens is a prefix OpenAI caches; on gpt-5-mini the cached part is billed at a
    tenth of the input rate and the reasoning as output."""
    long_prompt = "You tag video transcripts for a searchable content library. " * 80
    settings = TaggingSettings(model="gpt-5-mini", work_dir=tmp_path / "work")
    with QdrantCache.connect("nate_content", path=seeded_cache) as cache:
        processor = BatchProcessor(cache, shared_gateway.client(), settings=settings)
        processor.prepare_batch_input(system_prompt=long_prompt, output_file=tmp_path / "input.jsonl")
        batch_id = processor.submit_batch(tmp_path / "input.jsonl")
        wait_for(shared_gateway.client(), batch_id)
        summary = processor.process_results(batch_id)
        states = [TaggingState.model_validate(payload["tagging"]) for _, payload in stored_payloads(cache, ["tagging"])]
    assert summary.tagged == 40 and summary.cached_input_tokens > 0 and summary.reasoning_tokens > 0
    usage = TokenUsage(
        summary.input_tokens, summary.output_tokens, summary.cached_input_tokens, summary.reasoning_tokens
    )
    uncached = usage.input_tokens - usage.cached_tokens
    expected = (uncached * 0.25 + usage.cached_tokens * 0.025 + usage.output_tokens * 2.00) / 1_000_000
    assert summary.cost_realtime_usd == pytest.approx(expected, abs=1e-6)
    assert summary.cost_batch_usd == pytest.approx(expected / 2, abs=1e-6)
    assert sum(state.cached_tokens for state in states) == summary.cached_input_tokens
    assert sum(state.reasoning_tokens for state in states) == summary.reasoning_tokens
