"""Edit a YAML file's text in place: change what a new render changes, keep everything else.

``init`` renders the project's files from a team's answers. A file the team has edited since
(a key added, a comment, a value changed by hand, a line ``pulumi stack init`` added) must keep
those edits when one answer changes. So the render of the answers before the change and the
render after are compared as YAML, and each difference is applied to the file's text at the
position of its node (PyYAML marks): a scalar replaced where it stands, an entry inserted next
to the sibling it follows in the render, an entry removed with its lines. What the answers do
not produce stays byte for byte; a value the team changed that the new answers would change
too is a :class:`Conflict`, not overwritten (unless forced).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import yaml

from mlops_resources.config.stack_files import load_yaml

_COMPOSER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""Node positions come from libyaml when PyYAML has it (several times faster); what a file
holds, and whether the CLI could read it, always from :func:`load_yaml`."""

Path = tuple[str | int, ...]
"""Where a value is: mapping keys and sequence indexes from the document's root."""

_MISSING = object()


@dataclass(frozen=True)
class Conflict:
    """A value the new render changes that the file does not hold as the old render did."""

    key: str
    """The key as a stack file spells it (``mlops:access.readers_group``)."""
    found: Any
    """What the file holds (:data:`MISSING_TEXT` for an absent section)."""
    expected: Any
    """What the render before the change holds."""
    wanted: Any
    """What the render after the change holds."""


MISSING_TEXT = "(missing)"


@dataclass(frozen=True)
class Patched:
    """A file's text with a render's changes applied."""

    text: str
    conflicts: tuple[Conflict, ...] = ()
    frozen: tuple[str, ...] = ()
    """Top-level keys a change would have touched but that were kept as they are."""


def display(path: Path) -> str:
    """``path`` as a stack file's key: ``config``, the top-level key, then dotted keys."""
    parts = list(path[1:] if path[:1] == ("config",) and len(path) > 1 else path)
    text = str(parts[0]) if parts else ""
    for part in parts[1:]:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


class _Document:
    """A YAML text with its node tree (for positions) and data (for values)."""

    def __init__(self, text: str, namespace: str) -> None:
        self.text = text
        self.namespace = namespace
        self.data = load_yaml(text)  # first: it refuses what the CLI refuses
        self.root = yaml.compose(text, Loader=_COMPOSER)

    def _names(self, path: Path, key: str | int) -> tuple[str | int, ...]:
        """A key and the spellings that mean it: the CLI reads ``config: {x: ...}`` as
        ``<namespace>:x`` (pulumi/pulumi ``workspace.LoadProjectStackBytes``)."""
        prefix = f"{self.namespace}:"
        if path == ("config",) and isinstance(key, str) and key.startswith(prefix):
            return key, key[len(prefix) :]
        return (key,)

    def node(self, path: Path) -> tuple[yaml.Node | None, yaml.Node | None]:
        """The (key node, value node) at ``path``; (None, None) where it is absent."""
        key_node: yaml.Node | None = None
        node: yaml.Node | None = self.root
        for depth, part in enumerate(path):
            names = self._names(path[:depth], part)
            if isinstance(node, yaml.MappingNode):
                pairs = [(k, v) for k, v in node.value if k.value in names]
                if not pairs:
                    return None, None
                key_node, node = pairs[0]
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
                if part >= len(node.value):
                    return None, None
                key_node, node = None, node.value[part]
            else:
                return None, None
        return key_node, node

    def value(self, path: Path) -> Any:
        value: Any = self.data
        for depth, part in enumerate(path):
            names = self._names(path[:depth], part)
            if isinstance(value, dict):
                found = [value[n] for n in names if n in value]
                if not found:
                    return _MISSING
                value = found[0]
            elif isinstance(value, list) and isinstance(part, int) and part < len(value):
                value = value[part]
            else:
                return _MISSING
        return value

    def last_index(self, node: yaml.Node) -> int:
        """Where ``node``'s text ends (a block collection ends with its last child)."""
        if isinstance(node, yaml.MappingNode) and not node.flow_style and node.value:
            return self.last_index(node.value[-1][1])
        if isinstance(node, yaml.SequenceNode) and not node.flow_style and node.value:
            return self.last_index(node.value[-1])
        return int(node.end_mark.index)

    def entry_span(self, key_node: yaml.Node, value_node: yaml.Node) -> tuple[int, int]:
        """The lines of a mapping entry: from its key's line to the end of its value's."""
        start = key_node.start_mark.index - key_node.start_mark.column
        end = self.text.find("\n", self.last_index(value_node))
        return start, len(self.text) if end < 0 else end + 1

    def entry(self, path: Path) -> tuple[str, int]:
        """An entry's lines and its key's column."""
        key_node, value_node = self.node(path)
        assert key_node is not None and value_node is not None
        start, end = self.entry_span(key_node, value_node)
        return self.text[start:end], key_node.start_mark.column


def _shown(value: Any) -> Any:
    return None if value is _MISSING else value


def _reindent(text: str, by: int) -> str:
    lines = text.splitlines(keepends=True)
    if by >= 0:
        return "".join(" " * by + line if line.strip() else line for line in lines)
    return "".join(line[min(-by, len(line) - len(line.lstrip(" "))) :] for line in lines)


def _diff(old: Any, new: Any, path: Path) -> list[tuple[str, Path]]:
    """(kind, path) of what turns ``old`` into ``new``: ``replace`` a value, ``insert`` or
    ``delete`` a mapping entry."""
    if old == new:
        return []
    if isinstance(old, dict) and isinstance(new, dict):
        edits: list[tuple[str, Path]] = []
        for key in new:
            if key in old:
                edits += _diff(old[key], new[key], (*path, key))
            else:
                edits.append(("insert", (*path, key)))
        edits += [("delete", (*path, key)) for key in old if key not in new]
        return edits
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [
            e
            for i, (o, n) in enumerate(zip(old, new, strict=True))
            for e in _diff(o, n, (*path, i))
        ]
    return [("replace", path)]


def patch(
    current: str,
    old: str,
    new: str,
    *,
    namespace: str,
    force: bool = False,
    frozen: Collection[str] = (),
) -> Patched:
    """``current`` with the changes from ``old`` to ``new`` (two renders) applied in place.

    A change to a value the file does not hold as ``old`` does is a conflict, applied only
    with ``force``; a change the file's layout cannot take (its section is gone, or written
    in flow style) is a conflict either way. Top-level keys in ``frozen`` are never changed.
    Comment lines ``old`` has and ``new`` has not are removed, and those ``new`` adds added.
    """
    here = _Document(current, namespace)
    before, after = _Document(old, namespace), _Document(new, namespace)
    spans: list[tuple[int, int, int, str]] = []  # (start, end, order, replacement)
    conflicts: list[Conflict] = []
    kept: list[str] = []
    for order, (kind, path) in enumerate(_diff(before.data, after.data, ())):
        if str(path[0]) in frozen:
            kept.append(str(path[0]))
            continue
        found, expected, wanted = here.value(path), before.value(path), after.value(path)
        if found == wanted or (kind == "delete" and found is _MISSING):
            continue  # already as the new render has it
        if found != expected and found is not _MISSING and not force:
            conflicts.append(Conflict(display(path), found, _shown(expected), _shown(wanted)))
            continue
        span = _span(here, after, kind, path, order)
        if span is None:
            conflicts.append(
                Conflict(
                    display(path),
                    MISSING_TEXT if found is _MISSING else found,
                    _shown(expected),
                    _shown(wanted),
                )
            )
        else:
            spans.append(span)
    text = current
    for start, end, _, replacement in sorted(spans, reverse=True):
        text = text[:start] + replacement + text[end:]
    return Patched(_comments(text, old, new), tuple(conflicts), tuple(dict.fromkeys(kept)))


def _span(
    here: _Document, after: _Document, kind: str, path: Path, order: int
) -> tuple[int, int, int, str] | None:
    """The text edit for one change, or None when the file's layout cannot take it."""
    key_node, node = here.node(path)
    if kind == "delete":
        if key_node is None or node is None:
            return None
        start, end = here.entry_span(key_node, node)
        return (start, end, order, "")
    new_key, new_node = after.node(path)
    assert new_node is not None
    if node is not None:  # replace it where it stands
        if isinstance(node, yaml.ScalarNode) and isinstance(new_node, yaml.ScalarNode):
            scalar = after.text[new_node.start_mark.index : new_node.end_mark.index]
            return (node.start_mark.index, node.end_mark.index, order, scalar)
        if key_node is None or new_key is None:
            return None
        start, end = here.entry_span(key_node, node)
        text, column = after.entry(path)
        return (start, end, order, _reindent(text, key_node.start_mark.column - column))
    # An entry the file lacks: after the sibling it follows in the new render.
    _, parent = here.node(path[:-1])
    _, new_parent = after.node(path[:-1])
    if not isinstance(parent, yaml.MappingNode) or parent.flow_style or not parent.value:
        return None
    assert isinstance(new_parent, yaml.MappingNode)
    keys = [k.value for k, _ in new_parent.value]
    position = parent.value[0][0].start_mark.index - parent.value[0][0].start_mark.column
    for sibling in reversed(keys[: keys.index(path[-1])]):
        sibling_key, sibling_node = here.node((*path[:-1], sibling))
        if sibling_key is not None and sibling_node is not None:
            position = here.entry_span(sibling_key, sibling_node)[1]
            break
    text, column = after.entry(path)
    shift = parent.value[0][0].start_mark.column - column
    return (position, position, order, _reindent(text, shift))


def _comments(text: str, old: str, new: str) -> str:
    """``text`` without the comment lines ``old`` has and ``new`` has not (each once), and
    with each block of comment lines ``new`` adds, before the line it precedes in ``new``
    when ``text`` has that line once."""
    before, after = old.splitlines(), new.splitlines()
    for line in before:
        if line.strip().startswith("#") and line not in after and f"{line}\n" in text:
            text = text.replace(f"{line}\n", "", 1)
    block: list[str] = []
    for line in after:
        if line.strip().startswith("#") and line not in before:
            block.append(line)
            continue
        anchor = f"\n{line}\n"
        if block and text.count(anchor) == 1:
            text = text.replace(anchor, "\n" + "".join(f"{c}\n" for c in block) + line + "\n")
        block = []
    return text
