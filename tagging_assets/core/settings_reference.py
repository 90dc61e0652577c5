"""The settings' own words, rendered for people: the command line's environment help and the configuration page.

Both are made from the fields of a pydantic-settings class (their environment variables, defaults and
descriptions), so neither can say something the settings do not. A field whose value alone would mislead as a
default (one computed, or one that depends on the provider) says what to show in ``json_schema_extra``'s
``shown_default``, in Markdown.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings

from tagging_assets.core.environment import environment_variables

_SENTENCE_END = re.compile(r"\.\s")
HELP_NAME_WIDTH = 31


@dataclass(frozen=True)
class Variable:
    """One environment variable (or several read as one) of a setting, as the help and the page show it."""

    names: tuple[str, ...]
    default: str | None
    """In Markdown; None: unset unless the environment sets it."""
    description: str

    @property
    def summary(self) -> str:
        """The description's first sentence, for a line of help."""
        return _SENTENCE_END.split(self.description, maxsplit=1)[0].removesuffix(".")


def variables(settings: type[BaseSettings]) -> list[Variable]:
    """Every variable the settings read, in the order a reader meets the fields (``_reading_order``); a nested
    model (read by its own settings class) is left to its own section."""
    fields = settings.model_fields
    return [
        Variable(
            environment_variables(settings, name), _shown_default(name, fields[name]), _description(name, fields[name])
        )
        for name in _reading_order(settings)
        if not _is_nested(fields[name])
    ]


def _reading_order(settings: type[BaseSettings]) -> list[str]:
    """The fields as a reader meets them: those of a group that leads (``leads_reference``: whose API and which
    key, set before anything else), then the class's own in the order declared, then those of each other group
    it is made of (pydantic puts inherited fields first)."""
    declaring = sorted(settings.__mro__, key=lambda group: not vars(group).get("leads_reference", False))
    order: list[str] = []
    for group in declaring:
        order.extend(name for name in vars(group).get("__annotations__", {}) if name in settings.model_fields)
    return list(dict.fromkeys(order))


def environment_help(settings: type[BaseSettings], heading: str) -> str:
    """Lines for a click epilog (``\\b`` keeps click from rewrapping them): each variable, what it is for and its
    default."""
    lines = ["", "\b", heading]
    for variable in variables(settings):
        default = f" ({variable.default.replace('`', '')})" if variable.default is not None else ""
        lines.append(f"  {variable.names[0]:<{HELP_NAME_WIDTH}} {variable.summary}{default}")
    return "\n".join(lines) + "\n"


def markdown_table(rows: Iterable[Variable]) -> str:
    """A Markdown table of variable, default and meaning."""
    lines = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for row in rows:
        names = " or ".join(f"`{name}`" for name in row.names)
        default = row.default if row.default is not None else "unset"
        lines.append(f"| {names} | {default} | {row.description.replace('|', '&#124;')} |")
    return "\n".join(lines) + "\n"


def _description(name: str, info: FieldInfo) -> str:
    if not info.description:
        raise ValueError(f"the setting {name} has no description to show")
    return info.description


def _shown_default(name: str, info: FieldInfo) -> str | None:
    extra = info.json_schema_extra
    if isinstance(extra, dict) and isinstance(extra.get("shown_default"), str):
        return str(extra["shown_default"])
    if info.default_factory is not None:
        raise ValueError(f"the setting {name} computes its default; say what to show in shown_default")
    default = info.default
    if default is None or default == "":
        return None
    if isinstance(default, float) and default.is_integer():
        default = int(default)
    return f"`{default}`"


def _is_nested(info: FieldInfo) -> bool:
    return isinstance(info.annotation, type) and issubclass(info.annotation, BaseModel)
