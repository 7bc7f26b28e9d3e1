"""Stack files on disk, read the way the Pulumi CLI passes them to a program.

The offline tools feed a program from ``Pulumi.<stack>.yaml`` without the CLI, and the program
itself reads the committed stack files to refuse a personal stack that would collide with
them. Keys are namespaced (``mlops:cluster``), structured values become JSON, encrypted values
stay encrypted (the program sees a placeholder), and a key repeated in one mapping is an error
with its line, as it is for the CLI's YAML parser.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
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


def encode_value(value: Any) -> str:
    """A config value as the CLI passes it to a program: a string as is, anything else (a
    number, a boolean, a list, a mapping) as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value)


def encode_config(config: Mapping[str, Any]) -> tuple[dict[str, str], frozenset[str]]:
    """A stack file's namespaced ``config`` (:func:`parse_config`) as the CLI passes it: each
    value encoded (:func:`encode_value`), and the keys whose value is encrypted
    (``{secure: ...}``), which stays encrypted offline: the program sees a placeholder."""
    values: dict[str, str] = {}
    secrets = set()
    for key, value in config.items():
        if isinstance(value, dict) and set(value) == {"secure"}:
            secrets.add(key)
            value = SECRET_PLACEHOLDER
        values[key] = encode_value(value)
    return values, frozenset(secrets)


def parse_config(text: str, name: str, namespace: str) -> dict[str, Any]:
    """The ``config`` of a stack file's text, values as written, each key in ``namespace``
    unless it names one (``cluster`` -> ``mlops:cluster``), as the CLI reads it.

    Raises StackFileError naming the file ``name`` when the text is not a stack file.
    """
    try:
        document = load_yaml(text) or {}
    except yaml.YAMLError as error:
        raise StackFileError(f"{name}: not valid YAML: {error}") from None
    config = document.get("config") or {} if isinstance(document, dict) else None
    if not isinstance(config, dict):
        raise StackFileError(f"{name}: 'config' should be a mapping of keys to values")
    return {key if ":" in key else f"{namespace}:{key}": value for key, value in config.items()}


def stack_file_path(stack: str, project_dir: Path | None = None) -> Path:
    """Where the stack file of ``stack`` is: ``Pulumi.<stack>.yaml`` next to ``Pulumi.yaml``."""
    return (project_dir or PROJECT_DIR) / f"Pulumi.{stack}.yaml"


def read_stack_config(stack: str, project_dir: Path | None = None) -> tuple[Path, dict[str, Any]]:
    """The path of ``Pulumi.<stack>.yaml`` and its config as written (:func:`parse_config`)."""
    project_dir = project_dir or PROJECT_DIR
    path = stack_file_path(stack, project_dir)
    if not path.is_file():
        raise StackFileError(f"{path.name}: no such stack file in {project_dir}")
    return path, parse_config(path.read_text(), path.name, project_name(project_dir))


def read_stack_file(stack: str, project_dir: Path | None = None) -> StackFile:
    """Read ``Pulumi.<stack>.yaml`` as the CLI passes it to the program."""
    path, config = read_stack_config(stack, project_dir)
    return StackFile(path, *encode_config(config))
