"""The tagging prompt. Its version is stored on every tagged point, so changing the
prompt (and bumping the version) makes every point eligible for tagging again."""

from __future__ import annotations

import hashlib

PROMPT_VERSION = "tags-v1"

SYSTEM_PROMPT = (
    "You tag video transcripts for a searchable content library. "
    "Read the transcript and reply with JSON holding two fields. "
    '"tags": 3 to 5 tags naming the specific topics, tools and techniques the video covers, each lowercase '
    'with words joined by hyphens (for example "vector-databases", "fine-tuning", "rag"); never generic tags such '
    'as "video", "technology", "ai" or "podcast". '
    '"summary": one sentence, at most 30 words, saying what a viewer learns.'
)


def user_message(title: str, transcript: str) -> str:
    """The user turn: the title gives the model context the transcript may lack."""
    return f"Title: {title}\n\nTranscript:\n{transcript}"


def prompt_version_for(system_prompt: str) -> str:
    """The bundled prompt's version, or one derived from a custom prompt's text."""
    if system_prompt == SYSTEM_PROMPT:
        return PROMPT_VERSION
    return "custom-" + hashlib.sha256(system_prompt.encode()).hexdigest()[:12]
