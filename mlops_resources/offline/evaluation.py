"""Evaluate the real program offline: stack file in, declared resources out.

No Pulumi CLI, provider plugin or credentials are involved. The stack file is turned into
runtime config exactly as the CLI passes it (``namespace:key`` -> string, structured values as
JSON), ``__main__.py`` runs under ``pulumi.runtime.set_mocks``, and a recording monitor keeps
every registration with its options (parent, protect, retain_on_delete). The tests and the
offline commands use :func:`evaluate`; a test of a stack file the program refuses runs its two
steps (:func:`install_mocks`, :func:`run_program`) to see what was declared before the error.
"""

from __future__ import annotations

import json
import re
import runpy
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import mocks as runtime_mocks
from pulumi.runtime import rpc, settings

from mlops_resources import PROJECT_DIR
from mlops_resources.config.stack_files import StackFile, project_name, read_stack_file

OFFLINE_HOST = "https://offline.invalid"
OFFLINE_USER = "developer@offline.invalid"
"""Who deploys a personal stack offline: a preview reads the caller's user name instead."""
CURRENT_USER = "databricks:index/getCurrentUser:getCurrentUser"
MOCK_ACCOUNT = "123456789012"
MOCK_REGION = "us-east-1"


@dataclass(frozen=True)
class DeclaredResource:
    """One registration the program made."""

    type: str
    name: str
    parent: str | None
    custom: bool
    protect: bool
    retain_on_delete: bool
    inputs: dict[str, Any] = field(default_factory=dict)
    dependencies: tuple[str, ...] = ()
    """Logical names of the resources this one explicitly depends on."""

    def input(self, path: str) -> Any:
        """A nested input by dotted wire-name path, e.g. ``schedule.quartzCronExpression``."""
        value: Any = self.inputs
        for part in path.split("."):
            value = value[int(part)] if isinstance(value, list) else value[part]
        return value


@dataclass(frozen=True)
class Evaluation:
    """What one run of the program declared and exported."""

    stack: str
    resources: tuple[DeclaredResource, ...]
    outputs: dict[str, Any]
    not_checked: tuple[Lookup, ...] = ()
    """Provider look-ups the program made that the mocks could not perform (existence checks
    of Unity Catalog objects): offline, they are neither passed nor failed."""
    deploying_user: str | None = None
    """The user a personal stack runs as when its file names none: whoever deploys it, which
    offline is a stand-in (:data:`OFFLINE_USER`); None when the program did not ask."""

    def of_type(self, type_: str) -> list[DeclaredResource]:
        return [r for r in self.resources if r.type == type_]

    def get(self, name: str) -> DeclaredResource:
        matches = [r for r in self.resources if r.name == name]
        if len(matches) != 1:
            raise KeyError(f"{len(matches)} resources named {name!r}")
        return matches[0]

    def to_json(self) -> str:
        """Stable JSON: resources sorted by type and name, keys sorted."""
        document = {
            "stack": self.stack,
            "resources": [
                {
                    "type": r.type,
                    "name": r.name,
                    "parent": r.parent,
                    "protect": r.protect,
                    "retainOnDelete": r.retain_on_delete,
                    "inputs": r.inputs,
                }
                for r in sorted(self.resources, key=lambda r: (r.type, r.name))
            ],
            "outputs": self.outputs,
            "notChecked": [
                {"function": lookup.function, "args": lookup.args} for lookup in self.not_checked
            ],
        }
        if self.deploying_user is not None:
            document["deployingUser"] = self.deploying_user
        return json.dumps(document, indent=2, sort_keys=True)


@dataclass(frozen=True, order=True)
class Lookup:
    """A provider function call (invoke) the program made, e.g. ``getTable`` of a name."""

    function: str
    """The function's token, e.g. ``databricks:index/getTable:getTable``."""
    args: dict[str, Any] = field(compare=False)

    @property
    def name(self) -> str:
        """What was looked up: the ``name`` argument, as the existence checks pass it."""
        return str(self.args.get("name", ""))

    @property
    def kind(self) -> str:
        """``catalog``, ``schema`` or ``table`` for ``getCatalog``, ``getSchema``, ``getTable``."""
        return self.function.rsplit(":get", 1)[-1].lower()


EXISTENCE_CHECKS = (
    "databricks:index/getCatalog:getCatalog",
    "databricks:index/getSchema:getSchema",
    "databricks:index/getTable:getTable",
)
"""Data sources the program reads only to learn that an object exists."""


class OfflineMocks(pulumi.runtime.Mocks):
    """Echo inputs as outputs and fill the few computed outputs the program reads.

    Existence checks (:data:`EXISTENCE_CHECKS`) are recorded, not performed: they answer as if
    the object existed, unless its name is in ``missing`` (tests of the failure path), and the
    offline tools list them as not checked.
    """

    def __init__(
        self, host: str, missing: frozenset[str] = frozenset(), deploying_user: str = OFFLINE_USER
    ) -> None:
        self.host = host.rstrip("/")
        self.missing = missing
        self.lookups: list[Lookup] = []
        self.deploying_user = deploying_user
        self.asked_for_user = False

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        outputs = dict(args.inputs)
        # Deterministic ids, so two evaluations of the same config are identical.
        resource_id = str(zlib.crc32(f"{args.typ}::{args.name}".encode()))
        if args.typ == "databricks:index/job:Job":
            outputs["url"] = f"{self.host}/#job/{resource_id}"
        elif args.typ == "databricks:index/mlflowModel:MlflowModel":
            outputs["registeredModelId"] = resource_id
        elif args.typ == "databricks:index/qualityMonitor:QualityMonitor":
            # Where the monitor writes (docs, "Monitor metric tables").
            table = str(args.inputs["tableName"]).rsplit(".", 1)[-1]
            schema = args.inputs["outputSchemaName"]
            outputs["dashboardId"] = f"dashboard-{resource_id}"
            outputs["profileMetricsTableName"] = f"{schema}.{table}_profile_metrics"
            outputs["driftMetricsTableName"] = f"{schema}.{table}_drift_metrics"
        elif args.typ == "databricks:index/registeredModel:RegisteredModel":
            inputs = args.inputs
            outputs["fullName"] = f"{inputs['catalogName']}.{inputs['schemaName']}.{inputs['name']}"
        elif args.typ.startswith("aws:"):
            resource_id = self._aws(args, outputs) or resource_id
        return resource_id, outputs

    @staticmethod
    def _aws(args: pulumi.runtime.MockResourceArgs, outputs: dict[str, Any]) -> str | None:
        """ARNs the way AWS forms them, so policies built from them can be asserted."""
        inputs = args.inputs
        if args.typ == "aws:s3/bucket:Bucket":
            outputs["arn"] = f"arn:aws:s3:::{inputs['bucket']}"
            return str(inputs["bucket"])
        if args.typ == "aws:kms/key:Key":
            key_id = f"key-{zlib.crc32(args.name.encode())}"
            outputs.update(
                keyId=key_id, arn=f"arn:aws:kms:{MOCK_REGION}:{MOCK_ACCOUNT}:key/{key_id}"
            )
            return key_id
        if args.typ == "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
            host = str(inputs["url"]).removeprefix("https://")
            outputs["arn"] = f"arn:aws:iam::{MOCK_ACCOUNT}:oidc-provider/{host}"
        elif args.typ == "aws:iam/role:Role":
            outputs["arn"] = f"arn:aws:iam::{MOCK_ACCOUNT}:role/{inputs['name']}"
            return str(inputs["name"])
        return None

    def call(
        self, args: pulumi.runtime.MockCallArgs
    ) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        if args.token == CURRENT_USER:
            # As terraform-provider-databricks scim/data_current_user.go answers: a user name
            # that is a UUID is a service principal's application id.
            self.asked_for_user = True
            user = self.deploying_user
            kind = "servicePrincipals" if re.match(r"^[0-9a-f-]{36}$", user) else "users"
            return {
                "id": user,
                "userName": user,
                "home": f"/Users/{user}",
                "aclPrincipalId": f"{kind}/{user}",
            }, []
        if args.token not in EXISTENCE_CHECKS:
            raise NotImplementedError(
                f"the program should call no provider function but existence checks and the "
                f"current user, got {args.token}"
            )
        lookup = Lookup(args.token, _plain(args.args))
        if lookup.name in self.missing:
            return {}, [("name", f"{lookup.kind.upper()}_DOES_NOT_EXIST: {lookup.name}")]
        self.lookups.append(lookup)
        return {"id": lookup.name, "name": lookup.name}, []


class RecordingMonitor(runtime_mocks.MockMonitor):
    """A mock monitor that also records resource options mocks don't see."""

    def __init__(self, mocks: OfflineMocks) -> None:
        super().__init__(mocks)
        self.offline_mocks = mocks
        self.declared: list[DeclaredResource] = []

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type != "pulumi:pulumi:Stack":
            self.declared.append(
                DeclaredResource(
                    type=request.type,
                    name=request.name,
                    parent=_parent_name(request.parent),
                    custom=bool(request.custom),
                    protect=bool(request.protect),
                    retain_on_delete=bool(request.retainOnDelete),
                    inputs=_plain(rpc.deserialize_properties(request.object)),
                    dependencies=tuple(
                        sorted(urn.rsplit("::", 1)[-1] for urn in request.dependencies)
                    ),
                )
            )
        return response


def _parent_name(urn: str) -> str | None:
    """Logical name of a parent URN; None for the root stack (urn:pulumi:s::p::type::name)."""
    if not urn:
        return None
    _, _, qualified_type, name = urn.split("::", 3)
    return None if qualified_type.split("$")[-1] == "pulumi:pulumi:Stack" else name


def _plain(value: Any) -> Any:
    """Inputs as JSON-ready values (protobuf structs and secrets unwrapped)."""
    if isinstance(value, Mapping):
        if value.get(rpc._special_sig_key) == rpc._special_secret_sig:
            return _plain(value["value"])
        return {str(k): _plain(v) for k, v in sorted(value.items())}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def install_mocks(
    stack: str,
    source: StackFile,
    project_dir: Path | None = None,
    missing: frozenset[str] = frozenset(),
    deploying_user: str = OFFLINE_USER,
) -> RecordingMonitor:
    """Point the Pulumi runtime at fresh recording mocks for ``stack``, with ``source``'s config
    as the CLI passes it; return the monitor.

    ``missing`` names Unity Catalog objects the existence checks report as missing;
    ``deploying_user`` is who the credentials belong to (a user name, or an application id).
    """
    host = source.values.get("databricks:host", OFFLINE_HOST)
    url = host if host.startswith("https://") else OFFLINE_HOST
    mocks = OfflineMocks(url, missing, deploying_user)
    monitor = RecordingMonitor(mocks)
    settings.ROOT.set(None)  # a fresh Stack resource, so outputs of an earlier run don't leak
    pulumi.runtime.set_mocks(
        monitor.mocks,
        project=project_name(project_dir),
        stack=stack,
        preview=False,
        monitor=monitor,
    )
    # As the CLI does: the program finds its project (Pulumi.yaml) here.
    settings.SETTINGS.root_directory = str(project_dir or PROJECT_DIR)
    pulumi.runtime.set_all_config(dict(source.values), sorted(source.secret_keys))
    return monitor


def run_program(
    stack: str, monitor: RecordingMonitor, project_dir: Path | None = None
) -> Evaluation:
    """Run ``__main__.py`` under the mocks :func:`install_mocks` returned; what it declared.

    Raises whatever the program raises, e.g. ``ConfigError`` for an invalid stack file; the
    monitor keeps what was declared until then.
    """
    project_dir = project_dir or PROJECT_DIR
    outputs: dict[str, Any] = {}

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def run() -> pulumi.Output[Any]:
        runpy.run_path(str(project_dir / "__main__.py"), run_name="__main__")
        root = settings.get_root_resource()
        exported = dict(getattr(root, "outputs", {}))
        return pulumi.Output.all(**exported).apply(outputs.update)

    run()
    declared = sorted(monitor.declared, key=lambda r: (r.type, r.name))
    mocks = monitor.offline_mocks
    user = mocks.deploying_user if mocks.asked_for_user else None
    return Evaluation(stack, tuple(declared), _plain(outputs), tuple(sorted(mocks.lookups)), user)


def evaluate(
    stack: str, project_dir: Path | None = None, stack_file: StackFile | None = None
) -> Evaluation:
    """Run ``__main__.py`` for ``stack`` under fresh mocks and return what it declared.

    ``stack_file`` replaces reading ``Pulumi.<stack>.yaml`` (tests pass edited config).
    Raises whatever the program raises, e.g. ``ConfigError`` for an invalid stack file.
    """
    source = stack_file or read_stack_file(stack, project_dir or PROJECT_DIR)
    return run_program(stack, install_mocks(stack, source, project_dir), project_dir)
