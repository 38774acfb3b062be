"""The one reader of user YAML (scenario and sweep files): bounded, UTF-8, no surprises.

Owns the limits every user YAML file is held to: size in bytes, UTF-8 text, no duplicate keys,
no anchors or aliases (a "billion laughs" cannot expand), bounded nesting depth. Returns the
parsed data and its node tree (for line numbers); every refusal is a `YamlError` whose message
names the file, the line and the limit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from geosim import inputs

MAX_BYTES = 1_000_000  # a scenario or sweep file is a few kB; 1 MB is generous
MAX_DEPTH = 32  # the schemas nest 4 levels deep
MAX_MESSAGE = 200  # characters of a YAML error's own text kept in our message


class YamlError(ValueError):
    """A user YAML file breaks a limit or is not valid YAML; the message says where and why."""


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses aliases, duplicate keys and deep nesting while composing."""

    def __init__(self, stream: str, where: str):
        super().__init__(stream)
        self.where = where
        self.depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            raise YamlError(f"{self.where}, line {mark.line + 1}: YAML aliases (*name) are not "
                            "supported; write the value out")
        event = self.peek_event()
        if getattr(event, "anchor", None):
            raise YamlError(f"{self.where}, line {event.start_mark.line + 1}: YAML anchors "
                            f"(&{event.anchor}) are not supported; write the value out")
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise YamlError(f"{self.where}, line {event.start_mark.line + 1}: nested more than "
                            f"{MAX_DEPTH} levels deep")
        try:
            node = super().compose_node(parent, index)
        finally:
            self.depth -= 1
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key, _ in node.value:
                if not isinstance(key, yaml.ScalarNode):
                    raise YamlError(f"{self.where}, line {key.start_mark.line + 1}: a mapping key "
                                    "must be a plain name or number")
                if key.tag == "tag:yaml.org,2002:merge":
                    raise YamlError(f"{self.where}, line {key.start_mark.line + 1}: YAML merge "
                                    "keys (<<) are not supported")
                line = key.start_mark.line + 1
                if key.value in seen:
                    raise YamlError(f"{self.where}, line {line}: duplicate key "
                                    f"'{_short(key.value)}' (first on line {seen[key.value]}); "
                                    "each key may appear once")
                seen[key.value] = line
        return node


def read_text(path: str | Path, what: str = "file") -> str:
    """Read a user file as UTF-8 text within `MAX_BYTES` (a regular file only: `geosim.inputs`).

    Raises:
        YamlError: not found, not a regular file, unreadable, too large, or not UTF-8 text.
    """
    try:
        return inputs.decode(inputs.read_bytes(path, what=what, limit=MAX_BYTES),
                             inputs.shorten(path, 200), "YAML text")
    except inputs.InputFileError as exc:
        raise YamlError(str(exc)) from None


def decode(data: bytes, where: str) -> str:
    """Decode UTF-8 bytes; a NUL byte or invalid UTF-8 is a `YamlError` naming line and byte."""
    try:
        return inputs.decode(data, where, "YAML text")
    except inputs.InputFileError as exc:
        raise YamlError(str(exc)) from None


def load(text: str, where: str) -> tuple[Any, yaml.Node | None]:
    """Parse one YAML document; return (data, node tree) or raise `YamlError`."""
    if len(text) > MAX_BYTES:
        raise YamlError(f"{where}: larger than {MAX_BYTES // 1000} kB; expected a short text")
    loader = None
    try:
        loader = _Loader(text, where)
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.reader.ReaderError as exc:
        line = text[:exc.position].count("\n") + 1
        raise YamlError(f"{where}, line {line}: not valid YAML: control character "
                        f"{exc.character:#06x} (expected printable text)") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f", line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise YamlError(f"{where}{line}: not valid YAML: {_short(problem, MAX_MESSAGE)}") from None
    except RecursionError:
        raise YamlError(f"{where}: nested too deeply") from None
    except YamlError:
        raise
    except (ValueError, TypeError, OverflowError) as exc:  # e.g. a date like 2023-02-30
        raise YamlError(f"{where}: not valid YAML: a value cannot be read "
                        f"({_short(exc, MAX_MESSAGE)})") from None
    finally:
        if loader is not None:
            loader.dispose()
    return data, node


def _short(text: Any, limit: int = 60) -> str:
    text = str(text)
    return text if len(text) <= limit else text[:limit - 3] + "..."
