"""The config machinery every program of the repository shares.

A program's config is a namespace (its Pulumi project name) whose keys are the fields of a
root pydantic model. :class:`RawConfig` holds what the Pulumi runtime passes (``ns:key`` ->
string, structured values as JSON), :class:`Namespace` turns it into the model and every
pydantic error into a problem naming the key as a user writes it in the stack file, and
:class:`ConfigError` reports all problems at once, before any resource is declared.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import UnionType
from typing import Annotated, Any, ClassVar, Literal, Union, get_args, get_origin

import pulumi
from pulumi.runtime import config as runtime_config
from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.fields import FieldInfo

from mlops_resources.config.checks import escape_invisible
from mlops_resources.config.stack_files import StackFile, encode_value

_CREDENTIAL_KEY = re.compile(r"(token|password|secret|private_?key|access_?key)", re.IGNORECASE)
_TOKENS = re.compile(
    r"\b(?:"
    r"dapi[0-9a-f]{32}(?:-\d+)?"  # Databricks personal access token
    r"|dose[0-9a-f]{32}"  # Databricks OAuth secret
    r"|gh[pousr]_[A-Za-z0-9]{36,}"  # GitHub tokens
    r"|github_pat_[A-Za-z0-9_]{22,}"
    r"|glpat-[A-Za-z0-9_-]{20,}"  # GitLab
    r"|(?:AKIA|ASIA)[0-9A-Z]{16}"  # AWS access key id
    r")\b"
)
"""Values shaped like a credential, wherever they appear."""
_URL_CREDENTIALS = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^/\s@]+@")
"""A URL with a user (and maybe a password or token) before its host: ``https://x@host``."""
REDACTED = "<redacted>"
NULL = "null"
"""How the CLI passes a key written with no value (a YAML null)."""
_NO_VALUE = object()


def redact(text: str) -> str:
    """``text`` with credential-shaped values and URL credentials replaced by <redacted>.

    Every problem goes through this before it is shown: an error about a pasted token must not
    print the token into CI logs.
    """
    text = _TOKENS.sub(REDACTED, text)
    return _URL_CREDENTIALS.sub(lambda m: f"{m['scheme']}{REDACTED}@", text)


class ConfigError(pulumi.RunError):
    """Raised when the stack config is invalid; lists every problem found.

    A ``pulumi.RunError`` makes the Pulumi CLI print the message without a Python traceback.
    Problems are redacted (:func:`redact`), and invisible characters in them escaped
    (``\\u200b``): a name that differs from another only by one must show the difference.
    """

    def __init__(self, stack_file: str, problems: list[str]) -> None:
        self.stack_file = stack_file
        self.problems = [escape_invisible(redact(problem)) for problem in problems]
        lines = "\n".join(f"  - {stack_file}: {problem}" for problem in self.problems)
        super().__init__(
            f"{len(problems)} problem(s) in {stack_file}; nothing was declared:\n{lines}"
        )


class Section(BaseModel):
    """Base of every config section: immutable, strict types, unknown keys rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    removed_keys: ClassVar[Mapping[str, str]] = {}
    """Keys earlier versions read -> what replaced them: a fork's stack file that still has
    one is told where it went, not offered the nearest spelling of another key."""


@dataclass(frozen=True)
class RawConfig:
    """Config as the Pulumi runtime holds it: ``namespace:key`` -> string, plus secret keys."""

    values: Mapping[str, str]
    secret_keys: frozenset[str]

    @classmethod
    def from_runtime(cls) -> RawConfig:
        values: dict[str, Any] = dict(runtime_config.get_config_env())
        values.update(runtime_config.CONFIG.get())
        secret = set(runtime_config.get_config_secret_keys_env())
        secret.update(k for k in values if runtime_config.is_config_secret(k))
        return cls({k: str(v) for k, v in values.items()}, frozenset(secret))

    @classmethod
    def from_stack_file(cls, source: StackFile) -> RawConfig:
        """What the CLI would pass the program from a stack file read offline."""
        return cls(source.values, source.secret_keys)


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    candidates = (annotation, *getattr(annotation, "__args__", ()))
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _is_text(annotation: Any) -> bool:
    """Whether a top-level key holds plain text (the CLI passes anything else as JSON)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _is_text(get_args(annotation)[0])
    if origin in (UnionType, Union):
        return all(_is_text(a) for a in get_args(annotation) if a is not type(None))
    # list[str] is not text: its arguments are the items' type.
    return annotation is str


def _json_kind(annotation: Any) -> str:
    if _nested_model(annotation):
        return "a mapping"
    if bool in (annotation, *get_args(annotation)):
        return "true or false"
    return _type_name(annotation)


@dataclass(frozen=True)
class ReferenceEntry:
    """One configurable key, for a config reference table."""

    key: str
    type: str
    default: str
    description: str
    example: str = ""
    """The field's documented example (``Field(examples=[...])``), as YAML would show it."""


@dataclass(frozen=True)
class Namespace:
    """A config namespace whose keys are the fields of a root section model.

    Turns CLI-encoded values into the model and pydantic errors into problems that name the
    key as a user writes it in the stack file (``mlops:cluster.num_workers``).
    """

    name: str
    root: type[BaseModel]
    injected: Mapping[str, str] = field(default_factory=dict)
    """Root fields the program fills in, mapped to the key reported for them."""
    provider_keys: tuple[ReferenceEntry, ...] = ()
    """Keys of other namespaces (a provider's) the program reads, for the reference."""
    providers: tuple[str, ...] = ()
    """Namespaces of the providers the program uses; their keys configure the provider."""

    def namespace_problems(self, raw: RawConfig) -> list[str]:
        """Keys under a namespace the program never reads (another project's, a typo): the
        program would silently ignore a whole section."""
        known = (self.name, *self.providers, "pulumi")
        problems = []
        for key in sorted(raw.values):
            namespace = key.partition(":")[0]
            if namespace not in known:
                close = difflib.get_close_matches(namespace, known, n=1)
                hint = f" (did you mean '{close[0]}:'?)" if close else ""
                problems.append(
                    f"{key}: unknown namespace '{namespace}'{hint}; this program reads only "
                    f"{', '.join(f'{n}:' for n in known)} keys, so it would ignore this one"
                )
        return problems

    def key(self, loc: tuple[Any, ...]) -> str:
        head, *rest = loc
        key = self.injected.get(head) or f"{self.name}:{head}"
        for part in rest:
            key += f"[{part}]" if isinstance(part, int) else f".{part}"
        return key

    def locate(self, loc: tuple[Any, ...]) -> tuple[type[BaseModel] | None, FieldInfo | None]:
        """The section model that holds the last part of an error location, and its field."""
        model: type[BaseModel] | None = self.root
        found: FieldInfo | None = None
        for index, part in enumerate(loc):
            if model is None or not isinstance(part, str):
                return None, None
            by_alias = {f.alias or n: f for n, f in model.model_fields.items()}
            found = by_alias.get(part)
            if index == len(loc) - 1 or found is None:
                break
            model = _nested_model(found.annotation)
        return model, found

    def known_keys(self, model: type[BaseModel] | None) -> list[str]:
        """The keys a user may write in ``model``'s section (none for an unknown one)."""
        if model is None:
            return []
        names = [f.alias or n for n, f in model.model_fields.items()]
        return [n for n in names if not (model is self.root and n in self.injected)]

    def describe(self, error: Mapping[str, Any]) -> str:
        loc = tuple(error["loc"])
        kind = error["type"]
        model, found = self.locate(loc)
        expected = (found.description or "") if found else ""
        key = self.key(loc)
        if kind == "missing":
            return f"{key}: required key is missing; expected {expected}"
        if kind == "extra_forbidden":
            removed = model.removed_keys if model and issubclass(model, Section) else {}
            if str(loc[-1]) in removed:
                return f"{key}: no longer read; {removed[str(loc[-1])]}"
            known = self.known_keys(model)
            close = difflib.get_close_matches(str(loc[-1]), known, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            return f"{key}: unknown key{hint}; expected one of: {', '.join(sorted(known))}"
        if kind == "value_error":
            return f"{key}: {error['ctx']['error']}"
        message = str(error["msg"]).replace("Input should be", "expected")
        suffix = f" ({expected})" if expected else ""
        return f"{key}: {message}, got {error['input']!r}{suffix}"

    def decode(self, raw: RawConfig) -> tuple[dict[str, Any], list[str]]:
        """This namespace's keys, decoded the way the CLI encoded them; a key without a value
        is a problem of its own (and not also a missing key)."""
        data: dict[str, Any] = {}
        problems = []
        prefix = f"{self.name}:"
        fields = self.root.model_fields
        for key, text in sorted(raw.values.items()):
            if not key.startswith(prefix):
                continue
            name = key[len(prefix) :]
            if name in self.injected:
                problems.append(f"{key}: unknown key; it is derived, not configured")
            elif text == NULL:
                expected = fields[name].description if name in fields else None
                problems.append(
                    f"{key}: has no value (the YAML key is empty); give it a value"
                    + (f" ({expected})" if expected else "")
                    + " or remove the key"
                )
                data[name] = _NO_VALUE
            elif name in fields and not _is_text(fields[name].annotation):
                try:
                    data[name] = json.loads(text)
                except json.JSONDecodeError:
                    problems.append(
                        f"{key}: expected {_json_kind(fields[name].annotation)}, got {text!r}"
                    )
            else:
                data[name] = text
        return data, problems

    def build(
        self, raw: RawConfig, injected: Mapping[str, Any]
    ) -> tuple[BaseModel | None, list[str]]:
        """The validated root model (None if invalid) and every problem found."""
        data, problems = self.decode(raw)
        empty = {name for name, value in data.items() if value is _NO_VALUE}
        data = {name: value for name, value in data.items() if name not in empty}
        data.update(injected)
        try:
            model = self.root.model_validate(data)
        except ValidationError as error:
            errors = error.errors(include_url=False)
            return None, problems + [self.describe(e) for e in errors if e["loc"][0] not in empty]
        return (None if empty else model), problems

    def reference(self) -> Iterable[ReferenceEntry]:
        """Every configurable key, provider keys first, then the model's in declaration order."""
        yield from self.provider_keys

        def walk(model: type[BaseModel], prefix: str) -> Iterable[ReferenceEntry]:
            for name, info in model.model_fields.items():
                key = info.alias or name
                if model is self.root and key in self.injected:
                    continue
                path = f"{prefix}{key}"
                nested = _nested_model(info.annotation)
                mapping = get_origin(info.annotation) is dict
                if nested is not None and not mapping:
                    yield from walk(nested, f"{path}.")
                    continue
                default = (
                    "required"
                    if info.is_required()
                    else json.dumps(info.get_default(call_default_factory=True))
                )
                example = info.examples[0] if info.examples else None
                yield ReferenceEntry(
                    path,
                    _type_name(info.annotation),
                    default,
                    info.description or "",
                    "" if example is None else encode_value(example),
                )
                if nested is not None:  # a map of sections: their keys under <name>
                    yield from walk(nested, f"{path}.<name>.")

        yield from walk(self.root, f"{self.name}:")


def _texts(path: str, value: Any) -> Iterable[tuple[str, str]]:
    """(key path, text) of every string in a decoded config value, the path spelled as
    problems spell keys (``mlops:access.readers_group``, ``mlops:jobs.on_failure_emails[0]``).
    A mapping key that is itself credential-shaped is reported at its parent's path, so the
    path never holds it."""
    if isinstance(value, dict):
        for name, item in value.items():
            name = str(name)
            if _TOKENS.search(name) or _URL_CREDENTIALS.search(name):
                yield path, name
            else:
                yield from _texts(f"{path}.{name}", item)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _texts(f"{path}[{index}]", item)
    elif isinstance(value, str):
        yield path, value


def _credential_keys(path: str, value: Any) -> Iterable[str]:
    """Key paths below the top level whose name says credential (``token``, ``password``, ...)
    and whose value is set: a section is passed to the program, and deployed values such as
    cluster tags are shown to every reader, in plaintext."""
    if isinstance(value, dict):
        for name, item in value.items():
            child = f"{path}.{name}"
            if _CREDENTIAL_KEY.search(str(name)) and item not in (None, "", [], {}):
                yield child
            else:
                yield from _credential_keys(child, item)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _credential_keys(f"{path}[{index}]", item)


def _decoded(text: str) -> Any:
    """A structured value (JSON mapping or list, as the CLI passes one) decoded; any other
    value as is."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return text
    return value if isinstance(value, (dict, list)) else text


def credential_problems(raw: RawConfig) -> list[str]:
    """Plaintext credentials: a credential-named key that is not a secret (at the top level or
    inside a section), a token-shaped value, or a URL with credentials before its host, each
    at its key path (inside a section too). The value is never repeated."""
    problems = []
    for key, value in sorted(raw.values.items()):
        if key in raw.secret_keys:
            continue
        if _CREDENTIAL_KEY.search(key.partition(":")[2]):
            problems.append(
                f"{key}: a credential in plaintext; store it with "
                f"`pulumi config set --secret {key}` or an environment variable"
            )
            continue
        decoded = _decoded(value)
        named = list(_credential_keys(key, decoded))
        problems += [
            f"{path}: a credential in plaintext (the key names one); remove it, or encrypt it "
            f"with `pulumi config set --secret --path '{path}'`"
            for path in named
        ]
        for path, text in _texts(key, decoded):
            if path in named:
                continue
            if _TOKENS.search(text):
                problems.append(
                    f"{path}: contains what looks like an access token in plaintext; remove it "
                    "and use a Pulumi secret or an environment variable (DATABRICKS_TOKEN, ...)"
                )
            elif _URL_CREDENTIALS.search(text):
                problems.append(
                    f"{path}: contains a URL with a user name, password or token before its "
                    "host; remove it: repository access goes through a Git credential of the "
                    "run-as principal, never through the URL"
                )
    return problems


def _type_name(annotation: Any) -> str:
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return _type_name(args[0])
    if origin is Literal:
        return " or ".join(repr(a) for a in args)
    if origin in (UnionType, Union):
        return " or ".join(_type_name(a) for a in args if a is not type(None))
    if origin is list:
        return f"list of {_type_name(args[0])}"
    if origin is dict:
        return f"map of {_type_name(args[0])} to {_type_name(args[1])}"
    return getattr(annotation, "__name__", str(annotation))
