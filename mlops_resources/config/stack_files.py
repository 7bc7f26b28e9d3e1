"""Stack files on disk, read the way the Pulumi CLI passes them to a program.

The offline tools feed a program from ``Pulumi.<stack>.yaml`` without the CLI, and the program
itself reads the committed stack files to refuse a personal stack that would collide with
them. Keys are namespaced (``mlops:cluster``), structured values become JSON, encrypted values
stay encrypted (the program sees a placeholder), and a key repeated in one mapping is an error
with its line, as it is for the CLI's YAML parser.

That parser is ``gopkg.in/yaml.v3`` (pulumi/pulumi ``sdk/go/common/encoding/marshal.go``,
since v3.50.0; ``workspace.LoadProjectStackBytes`` unmarshals a stack file with it), which
resolves YAML merge keys (``<<: *defaults``): the mapping's own keys win over merged ones, and
of several merged mappings the first wins (yaml.v3 ``decode.go``, ``mapping`` and ``merge``).
They are resolved here the same way; PyYAML's own resolution lets the last merged mapping win
(6.0.4, ``SafeConstructor.flatten_mapping``), so it is not used.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
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
    """A safe loader that refuses a key repeated in one mapping (PyYAML keeps the last).

    PyYAML's own scanner, not libyaml's: like yaml.v3 (``scannerc.go``,
    ``yaml_parser_scan_plain_scalar``: in a flow collection ``?`` ends a plain scalar) it
    refuses ``{quartz_cron: 0 0 9 * * ?}``, which libyaml 0.2.5 reads."""


MERGE_TAG = "tag:yaml.org,2002:merge"


def _check_unique(node: yaml.MappingNode) -> None:
    """Refuse a key written twice in one mapping, comparing keys by their text as yaml.v3 does
    (``decode.go``, ``mapping``: same kind and value), and in the mappings merged into it."""
    seen: dict[tuple[str, str], int] = {}
    for key_node, value_node in node.value:
        if key_node.tag == MERGE_TAG:
            merged = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
            for source in merged:
                if isinstance(source, yaml.MappingNode):
                    _check_unique(source)
        if not isinstance(key_node, yaml.ScalarNode):
            continue
        line = key_node.start_mark.line + 1
        key = (key_node.tag, key_node.value)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"key {key_node.value!r} appears twice in one mapping (lines {seen[key]} and "
                f"{line}); the Pulumi CLI refuses such a file",
                key_node.start_mark,
            )
        seen[key] = line


def _key(node: yaml.Node) -> tuple[str, Any]:
    return node.tag, node.value if isinstance(node, yaml.ScalarNode) else id(node)


def _merged_pairs(node: yaml.MappingNode) -> list[tuple[yaml.Node, yaml.Node]]:
    """The mapping's (key, value) nodes with its merge keys resolved as yaml.v3 resolves them:
    its own keys first, then each merged mapping's in order, a key already set skipped."""
    pairs = [(k, v) for k, v in node.value if k.tag != MERGE_TAG]
    seen = {_key(k) for k, _ in pairs}
    for key_node, value_node in node.value:
        if key_node.tag != MERGE_TAG:
            continue
        sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
        for source in sources:
            if not isinstance(source, yaml.MappingNode):
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    "a merge key (<<) takes a mapping or a list of mappings",
                    source.start_mark,
                )
            for pair in _merged_pairs(source):
                if _key(pair[0]) not in seen:
                    seen.add(_key(pair[0]))
                    pairs.append(pair)
    return pairs


def _unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    _check_unique(node)
    node.value = _merged_pairs(node)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _unique_mapping,
)


@lru_cache(maxsize=256)
def _parsed(text: str) -> Any:
    return yaml.load(text, Loader=_UniqueKeyLoader)


def load_yaml(text: str) -> Any:
    """Parse YAML like the Pulumi CLI: safe types only, no repeated keys. A text is parsed
    once (``init`` and the program's check of personal stacks re-read the same files); each
    caller gets a copy of its own."""
    return copy.deepcopy(_parsed(text))


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
    (``{secure: ...}``, at any depth), which stays encrypted offline: the program sees a
    placeholder."""
    values: dict[str, str] = {}
    secrets = set()
    for key, value in config.items():
        value, secret = _hide_secrets(value)
        if secret:
            secrets.add(key)
        values[key] = encode_value(value)
    return values, frozenset(secrets)


def _hide_secrets(value: Any) -> tuple[Any, bool]:
    """``value`` with each encrypted value (``{secure: ...}``, at any depth: ``pulumi config
    set --secret --path`` writes one inside a section) replaced by the placeholder, and whether
    there was one: the CLI then passes the whole top-level key as a secret (pulumi/pulumi
    ``sdk/go/common/resource/config/object.go``: ``object.Secure`` is true when any nested
    value is; ``map.go``, ``SecureKeys``)."""
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return SECRET_PLACEHOLDER, True
        items = {k: _hide_secrets(v) for k, v in value.items()}
        return {k: v for k, (v, _) in items.items()}, any(s for _, s in items.values())
    if isinstance(value, list):
        hidden = [_hide_secrets(v) for v in value]
        return [v for v, _ in hidden], any(s for _, s in hidden)
    return value, False


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
