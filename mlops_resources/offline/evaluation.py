"""Evaluate the real program offline: stack file in, declared resources out.

No Pulumi CLI, provider plugin or credentials are involved. The stack file is turned into
runtime config exactly as the CLI passes it (``namespace:key`` -> string, structured values as
JSON), ``__main__.py`` runs under ``pulumi.runtime.set_mocks``, and a recording monitor keeps
every registration with its options (parent, protect, retain_on_delete). The tests and the
offline commands use :func:`evaluate`; a test of a stack file the program refuses runs its two
steps (:func:`install_mocks`, :func:`run_program`) to see what was declared before the error.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import runpy
import uuid
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
GET_REGISTERED_MODEL = "databricks:index/getRegisteredModel:getRegisteredModel"
GET_SERVING_ENDPOINTS = "databricks:index/getServingEndpoints:getServingEndpoints"
IGNORED = "<ignored after create>"
"""How the JSON render shows an input in ``ignore_changes``: after create the engine keeps the
state's value, so what the program computes there (the champion's version) is no change."""
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
    delete_before_replace: bool = False
    replace_on_changes: tuple[str, ...] = ()
    """Input paths whose change replaces the resource (the ``replace_on_changes`` option)."""
    ignore_changes: tuple[str, ...] = ()
    """Input paths the engine takes from the state after create (``ignore_changes``)."""

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
    provider_config: dict[str, str] = field(default_factory=dict)
    """The stack file's keys of provider namespaces (``databricks:host``): what the engine's
    providers are configured with, so a render diff shows a changed workspace host."""
    deploying_user: str | None = None
    """The user a personal stack runs as when its file names none: whoever deploys it, which
    offline is a stand-in (:data:`OFFLINE_USER`); None when the program did not ask."""
    warnings: tuple[str, ...] = ()
    """What the program logged as warnings (``pulumi.log.warn``), as a preview shows them."""

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
                    "inputs": _mask(r.inputs, r.ignore_changes),
                    # Replacement options only where set: renders without them stay as they were.
                    **({"deleteBeforeReplace": True} if r.delete_before_replace else {}),
                    **(
                        {"replaceOnChanges": list(r.replace_on_changes)}
                        if r.replace_on_changes
                        else {}
                    ),
                    **({"ignoreChanges": list(r.ignore_changes)} if r.ignore_changes else {}),
                }
                for r in sorted(self.resources, key=lambda r: (r.type, r.name))
            ],
            "outputs": self.outputs,
            "notChecked": [
                {"function": lookup.function, "args": lookup.args} for lookup in self.not_checked
            ],
            "providerConfig": self.provider_config,
        }
        if self.deploying_user is not None:
            document["deployingUser"] = self.deploying_user
        if self.warnings:
            document["warnings"] = list(self.warnings)
        return json.dumps(document, indent=2, sort_keys=True)


_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _mask(inputs: dict[str, Any], paths: tuple[str, ...]) -> dict[str, Any]:
    """``inputs`` with the value at each ignore_changes path (``a.b[0].c``) replaced by
    :data:`IGNORED`; a path that is not set is left alone."""
    if not paths:
        return inputs
    masked: dict[str, Any] = json.loads(json.dumps(inputs))
    for path in paths:
        parts: list[Any] = [
            int(index) if index else name for name, index in _PATH_PART.findall(path)
        ]
        node: Any = masked
        try:
            for part in parts[:-1]:
                node = node[part]
            last = parts[-1]
            if (isinstance(node, dict) and last in node) or (
                isinstance(node, list) and isinstance(last, int) and last < len(node)
            ):
                node[last] = IGNORED
        except (KeyError, IndexError, TypeError):
            continue
    return masked


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
        """``catalog``, ``schema`` or ``table`` for ``getCatalog``, ``getSchema``, ``getTable``;
        ``currentuser`` for the caller check."""
        return self.function.rsplit(":get", 1)[-1].lower()

    @property
    def is_existence_check(self) -> bool:
        return self.function in EXISTENCE_CHECKS


EXISTENCE_CHECKS = (
    "databricks:index/getCatalog:getCatalog",
    "databricks:index/getSchema:getSchema",
    "databricks:index/getTable:getTable",
)
"""Data sources the program reads to learn that an object exists (and its id)."""


def offline_id(kind: str, name: str) -> str:
    """The id the mocks give a Unity Catalog object: a UUID derived from its kind and name, so
    two evaluations agree (a real table or schema id is a UUID too)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"offline:{kind}:{name.lower()}"))


def _access(source: StackFile) -> dict[str, Any]:
    """The stack file's ``mlops:access`` section, empty when it has none (the bootstrap)."""
    try:
        access = json.loads(source.values.get("mlops:access", "{}"))
    except ValueError:
        return {}
    return access if isinstance(access, dict) else {}


def _run_as(source: StackFile) -> str:
    """The stack file's run-as service principal, ``""`` when it names none."""
    return str(_access(source).get("run_as_service_principal", ""))


class OfflineMocks(pulumi.runtime.Mocks):
    """Echo inputs as outputs and fill the few computed outputs the program reads.

    Existence checks (:data:`EXISTENCE_CHECKS`) are recorded, not performed: they answer as if
    the object existed, with an :func:`offline_id`, unless its name is in ``missing`` (tests of
    the failure path), and the offline tools list them as not checked. The caller check
    (:data:`CURRENT_USER`) is recorded too and answers ``caller``.
    """

    def __init__(
        self,
        host: str,
        missing: frozenset[str] = frozenset(),
        caller: str = OFFLINE_USER,
        names_run_as: bool = True,
        champion: int | None = None,
        endpoints: Mapping[str, str] | None = None,
    ) -> None:
        self.host = host.rstrip("/")
        self.missing = missing
        self.caller = caller
        self.names_run_as = names_run_as
        """The stack file names who the stack runs as; else the caller is who it runs as."""
        self.lookups: list[Lookup] = []
        self.names: dict[str, str] = {}
        """Name of each id the existence checks answered with."""
        self.asked_for_user = False
        self.champion = champion
        """The version the model's ``champion`` alias points at; None: no champion yet."""
        self.endpoints = dict(endpoints or {})
        """Serving endpoints that exist: name -> version its ``champion`` entity serves."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        outputs = dict(args.inputs)
        # Deterministic ids, so two evaluations of the same config are identical.
        resource_id = str(zlib.crc32(f"{args.typ}::{args.name}".encode()))
        if args.typ == "databricks:index/job:Job":
            outputs["url"] = f"{self.host}/#job/{resource_id}"
        elif args.typ == "databricks:index/mlflowModel:MlflowModel":
            outputs["registeredModelId"] = resource_id
        elif args.typ == "databricks:index/dataQualityMonitor:DataQualityMonitor":
            # Where the monitor writes (docs, "Monitor metric tables"), from the names of the
            # ids the existence checks answered with.
            profiling = dict(args.inputs["dataProfilingConfig"])
            table = self.names[str(args.inputs["objectId"])]
            schema = self.names[str(profiling["outputSchemaId"])]
            short = table.rsplit(".", 1)[-1]
            profiling.update(
                dashboardId=f"dashboard-{resource_id}",
                monitoredTableName=table,
                profileMetricsTableName=f"{schema}.{short}_profile_metrics",
                driftMetricsTableName=f"{schema}.{short}_drift_metrics",
            )
            outputs["dataProfilingConfig"] = profiling
        elif args.typ == "databricks:index/modelServing:ModelServing":
            # The id Permissions takes is the endpoint's id, not its name (provider
            # serving/resource_model_serving.go: serving_endpoint_id, endpoint_url).
            outputs["servingEndpointId"] = f"endpoint-{resource_id}"
            outputs["endpointUrl"] = f"{self.host}/serving-endpoints/{args.inputs['name']}"
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
            # Read by a personal stack that names no user (who it runs as) and by an update of
            # a committed stack with a monitor (who deploys). As terraform-provider-databricks
            # scim/data_current_user.go answers: a service principal's user name is its
            # application id.
            self.lookups.append(Lookup(args.token, {}))
            self.asked_for_user = True
            user = self.caller
            kind = "servicePrincipals" if re.match(r"^[0-9a-f-]{36}$", user) else "users"
            return {
                "id": user,
                "userName": user,
                "home": f"/Users/{user}",
                "aclPrincipalId": f"{kind}/{user}",
            }, []
        if args.token in (GET_REGISTERED_MODEL, GET_SERVING_ENDPOINTS):
            return self._serving(args), []
        if args.token not in EXISTENCE_CHECKS:
            raise NotImplementedError(
                f"the program should call no provider function but existence checks, the "
                f"current user and the serving look-ups, got {args.token}"
            )
        lookup = Lookup(args.token, _plain(args.args))
        if lookup.name in self.missing:
            return {}, [("name", f"{lookup.kind.upper()}_DOES_NOT_EXIST: {lookup.name}")]
        self.lookups.append(lookup)
        object_id = offline_id(lookup.kind, lookup.name)
        self.names[object_id] = lookup.name
        # As the provider answers (catalog/data_*.go): a table's id is its table_id, a schema's
        # and a catalog's their name; the info block holds the object's UUID.
        info = {"fullName": lookup.name, "name": lookup.name}
        if lookup.kind == "table":
            return {
                "id": object_id,
                "name": lookup.name,
                "tableInfo": {**info, "tableId": object_id},
            }, []
        if lookup.kind == "schema":
            return {
                "id": lookup.name,
                "name": lookup.name,
                "schemaInfo": {**info, "schemaId": object_id},
            }, []
        return {"id": lookup.name, "name": lookup.name}, []

    def _serving(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        """The champion alias and the serving endpoints, as the provider answers them:
        ``get_registered_model`` lists the model's aliases (an empty list when there is none,
        ``pluginfw/products/registered_model/data_registered_model.go``), and
        ``get_serving_endpoints`` the endpoints with their served entities. Recorded as not
        checked: offline there is no champion unless a test or ``render --champion`` says so."""
        plain = _plain(args.args)
        self.lookups.append(Lookup(args.token, plain))
        if args.token == GET_REGISTERED_MODEL:
            aliases = (
                [{"aliasName": "champion", "versionNum": self.champion}]
                if self.champion is not None
                else []
            )
            name = str(plain.get("fullName", ""))
            return {
                "id": name,
                "fullName": name,
                "modelInfos": [{"fullName": name, "aliases": aliases}],
            }
        return {
            "id": "endpoints",
            "endpoints": [
                {
                    "name": name,
                    "configs": [
                        {"servedEntities": [{"name": "champion", "entityVersion": version}]}
                    ],
                }
                for name, version in sorted(self.endpoints.items())
            ],
        }


class _Warnings(logging.Handler):
    """Keeps the program's warnings (the mock engine logs them at WARNING)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


class RecordingMonitor(runtime_mocks.MockMonitor):
    """A mock monitor that also records resource options mocks don't see."""

    def __init__(self, mocks: OfflineMocks) -> None:
        super().__init__(mocks)
        self.offline_mocks = mocks
        self.declared: list[DeclaredResource] = []
        self.warnings = _Warnings()
        # A logger of its own, outside the logging tree: nothing else writes to it.
        self.logger = logging.Logger("mlops-offline-engine")
        self.logger.propagate = False
        self.logger.addHandler(self.warnings)

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
                    delete_before_replace=bool(request.deleteBeforeReplace),
                    replace_on_changes=tuple(request.replaceOnChanges),
                    ignore_changes=tuple(request.ignoreChanges),
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
    caller: str | None = None,
    champion: int | None = None,
    endpoints: Mapping[str, str] | None = None,
) -> RecordingMonitor:
    """Point the Pulumi runtime at fresh recording mocks for ``stack``, with ``source``'s config
    as the CLI passes it; return the monitor.

    ``missing`` names Unity Catalog objects the existence checks report as missing. ``caller``
    is who the credentials belong to (a user name, or an application id), which the program
    reads with ``get_current_user``; by default the stack file's run-as service principal, the
    identity a committed stack deploys as, or a stand-in developer (:data:`OFFLINE_USER`) for a
    stack file that names none. Offline, the read is listed as not performed. ``champion`` is
    the version the model's ``champion`` alias points at (None: no champion yet), and
    ``endpoints`` the serving endpoints that exist (name -> served version).
    """
    host = source.values.get("databricks:host", OFFLINE_HOST)
    mocks = OfflineMocks(
        host if host.startswith("https://") else OFFLINE_HOST,
        missing,
        (_run_as(source) or OFFLINE_USER) if caller is None else caller,
        names_run_as=bool(_run_as(source) or _access(source).get("run_as_user")),
        champion=champion,
        endpoints=endpoints,
    )
    monitor = RecordingMonitor(mocks)
    settings.ROOT.set(None)  # a fresh Stack resource, so outputs of an earlier run don't leak
    pulumi.runtime.set_mocks(
        monitor.mocks,
        project=project_name(project_dir),
        stack=stack,
        preview=False,
        logger=monitor.logger,
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
    user = mocks.caller if mocks.asked_for_user and not mocks.names_run_as else None
    return Evaluation(
        stack,
        tuple(declared),
        _plain(outputs),
        tuple(sorted(mocks.lookups)),
        deploying_user=user,
        warnings=tuple(monitor.warnings.messages),
    )


def evaluate(
    stack: str,
    project_dir: Path | None = None,
    stack_file: StackFile | None = None,
    champion: int | None = None,
    endpoints: Mapping[str, str] | None = None,
) -> Evaluation:
    """Run ``__main__.py`` for ``stack`` under fresh mocks and return what it declared.

    ``stack_file`` replaces reading ``Pulumi.<stack>.yaml`` (tests pass edited config);
    ``champion`` and ``endpoints`` are what the serving look-ups answer (:func:`install_mocks`).
    Raises whatever the program raises, e.g. ``ConfigError`` for an invalid stack file.
    """
    source = stack_file or read_stack_file(stack, project_dir or PROJECT_DIR)
    monitor = install_mocks(stack, source, project_dir, champion=champion, endpoints=endpoints)
    evaluation = run_program(stack, monitor, project_dir)
    namespace = project_name(project_dir)
    providers = {k: v for k, v in source.values.items() if k.split(":", 1)[0] != namespace}
    return dataclasses.replace(evaluation, provider_config=dict(sorted(providers.items())))
