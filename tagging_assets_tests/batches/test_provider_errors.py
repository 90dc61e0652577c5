"""A failing SDK call during submit reaches the caller as the project's error, in one line, for each provider:
no SDK exception escapes a provider's implementation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tagging_assets.batches.processor import BatchProcessor
from tagging_assets.batches.providers import SubmitOptions
from tagging_assets.core.cache import QdrantCache
from tagging_assets.core.errors import BatchApiError
from tagging_assets.core.settings import TaggingSettings
from tagging_assets_tests.reading import statuses
from tagging_assets_tests.support import Gateway

pytestmark = pytest.mark.subprocess

RIGHT_KEY = "sk-the-right-key"
REJECTED_KEY = {
    "openai": "the Batch API rejected the API key (check OPENAI_API_KEY, or AZURE_OPENAI_API_KEY on Azure)",
    "azure": "the Batch API rejected the API key (check OPENAI_API_KEY, or AZURE_OPENAI_API_KEY on Azure)",
    "anthropic": "Anthropic's API rejected the API key (check ANTHROPIC_API_KEY)",
}


@pytest.fixture(scope="module")
def guarded_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """One gateway that answers only ``RIGHT_KEY``."""
    root = tmp_path_factory.mktemp("guarded")
    (root / "gateway").mkdir()
    with (root / "gateway.log").open("ab") as log, Gateway(root / "gateway", api_key=RIGHT_KEY, log=log) as gateway:
        yield gateway


def settings_for(provider: str, gateway: Gateway, api_key: str, work_dir: Path) -> TaggingSettings:
    root = f"http://127.0.0.1:{gateway.port}"
    credentials = {
        "openai": {"openai_api_key": api_key, "openai_base_url": gateway.base_url},
        "azure": {"azure_api_key": api_key, "azure_endpoint": root},
        "anthropic": {"anthropic_api_key": api_key, "anthropic_base_url": root},
    }[provider]
    return TaggingSettings.model_validate({"provider": provider, "work_dir": work_dir, **credentials})


@pytest.mark.parametrize("provider", ["openai", "azure", "anthropic"])
def test_a_rejected_key_during_submit_is_one_line_naming_the_variable_to_check(
    guarded_gateway, seeded_cache, tmp_path, provider
):
    settings = settings_for(provider, guarded_gateway, "sk-wrong", tmp_path / "work")
    with QdrantCache.connect("nate_content", path=seeded_cache) as cache:
        processor = BatchProcessor(cache, settings=settings)
        [shard] = processor.prepare_files(tmp_path / "input.jsonl")
        with pytest.raises(BatchApiError) as refused:
            processor.submit_batch(shard)
    assert str(refused.value) == REJECTED_KEY[provider]
    assert not guarded_gateway.batches(), "nothing was made"
    assert {state.get("status") for state in statuses(seeded_cache).values()} == {None}, "nothing marked pending"


def test_an_upload_the_api_refuses_is_one_line_with_the_apis_own_message(guarded_gateway, seeded_cache, tmp_path):
    settings = settings_for("openai", guarded_gateway, RIGHT_KEY, tmp_path / "work")
    with QdrantCache.connect("nate_content", path=seeded_cache) as cache:
        processor = BatchProcessor(cache, settings=settings)
        [shard] = processor.prepare_files(tmp_path / "input.jsonl")
    too_short = SubmitOptions(collection="nate_content", backend="api", file_ttl_seconds=60)
    with pytest.raises(BatchApiError) as refused:
        processor.api.submit(shard, records=processor.records, options=too_short)
    line = str(refused.value)
    assert line.startswith("the Batch API answered 400: ") and "expires_after" in line and "\n" not in line
    assert not guarded_gateway.batches()
