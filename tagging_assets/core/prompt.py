"""The tagging prompt. Its version is stored on every tagged point, so changing the
prompt (and bumping the version) makes every point eligible for tagging again."""

from __future__ import annotations

import hashlib
from pathlib import Path

from tagging_assets.core.errors import ConfigError

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


def read_prompt_file(path: Path) -> str:
    """The system prompt a file holds, for TAGGING_PROMPT_FILE. A file that cannot serve as a prompt is a
    ``ConfigError`` naming the variable: a run with a silently empty prompt would tag everything again for nothing.
    Surrounding whitespace is dropped, so that an editor's final newline does not make a new prompt version."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"invalid configuration: TAGGING_PROMPT_FILE: no file at {path}") from None
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else "not UTF-8 text"
        raise ConfigError(f"invalid configuration: TAGGING_PROMPT_FILE: cannot read {path}: {reason}") from None
    if not text.strip():
        raise ConfigError(f"invalid configuration: TAGGING_PROMPT_FILE: {path} is empty")
    return text.strip()


def configured_prompt(prompt_file: Path | None) -> str:
    """The system prompt a run carries: TAGGING_PROMPT_FILE's text when it is set, else the bundled prompt."""
    return SYSTEM_PROMPT if prompt_file is None else read_prompt_file(prompt_file)
