"""The suite's own rule for the shared transcripts: skipped with the reason where they are absent, a failure in
CI, where they must be there."""

from __future__ import annotations

import pytest

from tagging_assets_tests.support import transcripts_path


@pytest.fixture
def absent(tmp_path, monkeypatch):
    missing = tmp_path / "transcripts.jsonl"
    monkeypatch.setenv("TAGGING_TRANSCRIPTS", str(missing))
    return missing


def test_absent_transcripts_skip_with_the_reason_outside_ci(absent, monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=f"the shared transcripts are missing: {absent}"):
        transcripts_path()


def test_absent_transcripts_fail_in_ci(absent, monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=f"the shared transcripts are missing: {absent}"):
        transcripts_path()


def test_present_transcripts_are_found(absent):
    absent.write_text("{}\n")
    assert transcripts_path() == absent
