"""The sensor and the Batch API resource where no API answers: what they say without a server."""

import pytest

from tagging_assets.defs.partitions import batch_partitions
from tagging_assets_tests.support import PROVIDERS, sensor_tick


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_tick_that_cannot_reach_the_api_skips_with_the_reason(instance, provider):
    instance.add_dynamic_partitions(batch_partitions.name, ["batch_somewhere"])
    result = sensor_tick(instance, "http://127.0.0.1:9", provider)
    assert not result.run_requests and not result.asset_events
    assert "unreachable: batch_somewhere: cannot reach " in result.skip_reason.skip_message


def test_batches_link_to_openais_dashboard_only_when_openai_runs_them():
    from tagging_assets.defs.resources import BatchApiResource

    assert BatchApiResource(api_key="k").dashboard_url("batch_1") == "https://platform.openai.com/batches/batch_1"
    official = BatchApiResource(base_url="https://api.openai.com/v1", api_key="k")
    assert official.dashboard_url("batch_1") == "https://platform.openai.com/batches/batch_1"
    assert BatchApiResource(base_url="http://127.0.0.1:8787/v1", api_key="k").dashboard_url("batch_1") is None
