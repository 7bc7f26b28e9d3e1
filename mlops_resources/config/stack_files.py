"""Stack files on disk, read the way the Pulumi CLI passes them to a program.

The offline tools feed a program from ``Pulumi.<stack>.yaml`` without the CLI, and the program
itself reads the committed stack files to refuse a personal stack that would collide with
them. Keys are namespaced (``mlops:cluster``), structured values become JSON, encrypted values
stay encrypted (the program sees a placeholder), and a key repeated in one mapping is an error
with its line, as it is for the CLI's YAML parser.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mlops_resources import PROJECT_DIR

SECRET_PLACEHOLDER = "[secret]"


class StackFileError(Exception):
    """The stack file is missing or is not a Pulumi stack file."""


@dataclass(frozen=True)
class StackFile:
    """A stack file's config as the CLI would hand it to the program."""

    path: Path
    values: dict[str, str]
    secret_keys: frozenset[str]


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses a key repeated in one mapping (PyYAML keeps the last)."""


def _unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        line = key_node.start_mark.line + 1
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"key {key!r} appears twice in one mapping (lines {seen[key]} and {line}); "
                "the Pulumi CLI refuses such a file",
                key_node.start_mark,
            )
        seen[key] = line
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _unique_mapping,
)


def load_yaml(text: str) -> Any:
    """Parse YAML like the Pulumi CLI: safe types only, no repeated keys."""
    return yaml.load(text, Loader=_UniqueKeyLoader)


def project_name(project_dir: Path | None = None) -> str:
    """The ``name`` of the project's ``Pulumi.yaml``: the program's config namespace."""
    with ((project_dir or PROJECT_DIR) / "Pulumi.yaml").open() as handle:
        return str(yaml.safe_load(handle)["name"])


def _encode(value: Any) -> str:
    """Config values as the CLI passes them: strings as-is, everything else as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value)


def read_stack_file(stack: str, project_dir: Path | None = None) -> StackFile:
    """Read ``Pulumi.<stack>.yaml``; keys are namespaced the way the CLI passes them."""
    project_dir = project_dir or PROJECT_DIR
    path = project_dir / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        raise StackFileError(f"{path.name}: no such stack file in {project_dir}")
    try:
        document = load_yaml(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise StackFileError(f"{path.name}: not valid YAML: {error}") from None
    config = document.get("config") or {} if isinstance(document, dict) else None
    if not isinstance(config, dict):
        raise StackFileError(f"{path.name}: 'config' should be a mapping of keys to values")
    namespace = project_name(project_dir)
    values: dict[str, str] = {}
    secrets = set()
    for key, value in config.items():
        full_key = key if ":" in key else f"{namespace}:{key}"
        if isinstance(value, dict) and set(value) == {"secure"}:
            # Encrypted values stay encrypted offline; the program sees a placeholder.
            secrets.add(full_key)
            value = SECRET_PLACEHOLDER
        values[full_key] = _encode(value)
    return StackFile(path, values, frozenset(secrets))
