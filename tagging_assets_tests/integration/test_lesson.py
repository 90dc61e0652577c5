"""The lesson's Example 2, typed as the lesson writes it with only the imports changed, against the gateway."""

import os
import time
from pathlib import Path

from tagging_assets_tests.reading import statuses


def test_the_lessons_example_2_runs_with_only_its_imports_changed(shared_gateway, seeded_cache, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OPENAI_BASE_URL", shared_gateway.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-lesson")
    monkeypatch.setenv("QDRANT_PATH", str(seeded_cache))
    monkeypatch.setenv("TAGGING_WORK_DIR", str(tmp_path / "work"))

    from tagging_assets.batches.processor import BatchProcessor
    from tagging_assets.core.cache import QdrantCache

    # Initialize
    cache = QdrantCache(collection_name="nate_content")
    processor = BatchProcessor(cache, api_key=os.getenv("OPENAI_API_KEY"))

    # Prepare batch
    system_prompt = "You are a tagging assistant..."
    num_items = processor.prepare_batch_input(
        filters={"type": "youtube_video"}, system_prompt=system_prompt, output_file=Path("batch_input.jsonl")
    )

    print(f"Prepared {num_items} items for batch processing")

    # Submit
    batch_id = processor.submit_batch(Path("batch_input.jsonl"))
    print(f"Batch submitted: {batch_id}")

    # Monitor (poll until complete)
    while True:
        status = processor.check_status(batch_id)
        if status["status"] == "completed":
            break
        time.sleep(0.2)  # the lesson checks every minute

    # Process results
    results = processor.process_results(batch_id)
    print(f"Tagged {results['successful']} videos")
    cache.close()

    assert num_items == 40 and results["successful"] == 40
    assert {state["status"] for state in statuses(seeded_cache).values()} == {"tagged"}


def test_a_filter_dict_selects_only_the_points_that_match(shared_gateway, seeded_cache, tmp_path):
    from tagging_assets.batches.processor import BatchProcessor
    from tagging_assets.core.cache import QdrantCache

    with QdrantCache.connect("nate_content", path=seeded_cache) as cache:
        processor = BatchProcessor(cache, shared_gateway.client(), work_dir=tmp_path)
        assert processor.prepare_batch_input(filters={"type": "podcast"}, output_file=tmp_path / "none.jsonl") == 0
        assert (
            processor.prepare_batch_input(filters={"type": "youtube_video"}, output_file=tmp_path / "all.jsonl") == 40
        )


def test_the_docs_python_api_example_runs_as_written(shared_gateway, seeded_cache, tmp_path, monkeypatch, capsys):
    page = (Path(__file__).resolve().parents[2] / "docs" / "python-api.md").read_text(encoding="utf-8")
    example = page.split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OPENAI_BASE_URL", shared_gateway.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-docs")
    monkeypatch.setenv("QDRANT_PATH", str(seeded_cache))
    monkeypatch.setenv("TAGGING_WORK_DIR", str(tmp_path / "work"))
    pause = time.sleep
    monkeypatch.setattr(time, "sleep", lambda seconds: pause(0.2))  # the example polls every minute

    exec(compile(example, "docs/python-api.md", "exec"), {"__name__": "__docs__"})

    assert capsys.readouterr().out.strip().endswith("Tagged 40 videos")
    assert {state["status"] for state in statuses(seeded_cache).values()} == {"tagged"}
