"""Compare two offline renders (``render --format json``) as a markdown report.

The pull-request workflow renders each stack for the PR's base and head and posts this report
as the job summary: what the change adds, removes and changes, input by input, with no
credentials (so it works for pull requests from forks too).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAX_VALUE = 80


@dataclass(frozen=True)
class InputChange:
    """One input that differs: a dotted path (wire names) and both values (None: absent)."""

    path: str
    base: Any
    head: Any


@dataclass(frozen=True)
class ResourceChange:
    """A resource present in both renders whose inputs or options differ."""

    type: str
    name: str
    changes: tuple[InputChange, ...]


@dataclass(frozen=True)
class RenderDiff:
    """Everything that differs between two renders of one stack."""

    stack: str
    added: tuple[tuple[str, str], ...]
    removed: tuple[tuple[str, str], ...]
    changed: tuple[ResourceChange, ...]
    total: int
    providers: tuple[InputChange, ...] = ()
    """Provider config that differs (``databricks:host``): no resource shows it, yet it decides
    which workspace the deploy's credentials are sent to."""

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.providers)


def _flatten(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, Mapping) and value:
        for key in sorted(value):
            yield from _flatten(value[key], f"{path}.{key}" if path else str(key))
    elif isinstance(value, list) and value:
        for index, item in enumerate(value):
            yield from _flatten(item, f"{path}[{index}]")
    else:
        yield path, value


def _state(resource: Mapping[str, Any]) -> dict[str, Any]:
    """What a reviewer cares about: inputs plus the protection options."""
    flat = dict(_flatten(resource.get("inputs", {})))
    flat["(protect)"] = resource.get("protect", False)
    flat["(retainOnDelete)"] = resource.get("retainOnDelete", False)
    return flat


def _index(document: Mapping[str, Any]) -> dict[tuple[str, str], Mapping[str, Any]]:
    return {(r["type"], r["name"]): r for r in document.get("resources", [])}


def compare(base: Mapping[str, Any], head: Mapping[str, Any]) -> RenderDiff:
    """Resources added, removed and changed from ``base`` to ``head``."""
    before, after = _index(base), _index(head)
    changed = []
    for key in sorted(before.keys() & after.keys()):
        old, new = _state(before[key]), _state(after[key])
        changes = tuple(
            InputChange(path, old.get(path), new.get(path))
            for path in sorted(old.keys() | new.keys())
            if old.get(path) != new.get(path)
        )
        if changes:
            changed.append(ResourceChange(key[0], key[1], changes))
    # A base rendered before renders carried the provider config shows it as added.
    old_config, new_config = base.get("providerConfig", {}), head.get("providerConfig", {})
    providers = tuple(
        InputChange(key, old_config.get(key), new_config.get(key))
        for key in sorted(old_config.keys() | new_config.keys())
        if old_config.get(key) != new_config.get(key)
    )
    return RenderDiff(
        stack=str(head.get("stack") or base.get("stack") or "?"),
        added=tuple(sorted(after.keys() - before.keys())),
        removed=tuple(sorted(before.keys() - after.keys())),
        changed=tuple(changed),
        total=len(after),
        providers=providers,
    )


def _cell(value: Any) -> str:
    if value is None:
        return "_(absent)_"
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    if len(text) > MAX_VALUE:
        text = text[: MAX_VALUE - 1] + "…"
    return "`" + text.replace("|", "\\|").replace("`", "'") + "`"


def to_markdown(diff: RenderDiff) -> str:
    """A report ready for a GitHub job summary or PR comment."""
    title = f"### Offline render: `{diff.stack}`"
    if diff.empty:
        return f"{title}\n\nNo changes: base and head declare identical resources ({diff.total}).\n"
    lines = [
        title,
        "",
        f"**{len(diff.added)} to add, {len(diff.removed)} to remove, {len(diff.changed)} to "
        f"change** ({diff.total} resources and components in head)",
    ]
    if diff.providers:
        lines += [
            "",
            "#### Provider config changed (where the deploy's credentials go)",
            "",
            "| key | base | head |",
            "| --- | --- | --- |",
        ]
        lines += [f"| `{c.path}` | {_cell(c.base)} | {_cell(c.head)} |" for c in diff.providers]
    if diff.added:
        lines += ["", "#### Added", ""]
        lines += [f"- `{type_}` **{name}**" for type_, name in diff.added]
    if diff.removed:
        lines += ["", "#### Removed", ""]
        lines += [f"- `{type_}` **{name}**" for type_, name in diff.removed]
    for resource in diff.changed:
        lines += [
            "",
            f"#### Changed: `{resource.type}` **{resource.name}**",
            "",
            "| input | base | head |",
            "| --- | --- | --- |",
        ]
        lines += [
            f"| `{change.path}` | {_cell(change.base)} | {_cell(change.head)} |"
            for change in resource.changes
        ]
    return "\n".join(lines) + "\n"


def load(path: Path) -> dict[str, Any]:
    """A render document; an empty file stands for a base that had no renderer yet."""
    text = path.read_text()
    if not text.strip():
        return {"resources": [], "outputs": {}}
    document: dict[str, Any] = json.loads(text)
    return document
