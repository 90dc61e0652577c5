"""Fixtures of the end-to-end tests."""

import pytest

from tagging_assets_tests.support import PROVIDERS


@pytest.fixture(params=PROVIDERS)
def provider(request: pytest.FixtureRequest) -> str:
    """Each fault is proven for every provider whose protocol the gateway speaks."""
    return request.param
