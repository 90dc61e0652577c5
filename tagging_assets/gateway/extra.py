"""Whether the gateway's server and the offline tagger's libraries are installed: they come with the
``gateway`` extra, which a user who only talks to a real API does without.

Asking imports none of them, so the command line can say in one line what to install before anything starts.
"""

from __future__ import annotations

import importlib.util

SERVER_MODULES = ("starlette", "uvicorn", "python_multipart", "wordfreq")
"""What the gateway imports beyond the project's own dependencies, by module name."""
INSTALL = "pip install 'tagging-assets[gateway]'"


def missing_extra() -> str | None:
    """The one line that says what to install, or None when the gateway can run."""
    missing = [name for name in SERVER_MODULES if _absent(name)]
    if not missing:
        return None
    return f"the local gateway is not installed (no {', '.join(missing)}): {INSTALL}"


def _absent(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is None
    except ValueError:
        return True
