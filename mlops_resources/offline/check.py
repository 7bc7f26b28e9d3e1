"""``check``: run the policy pack's own callables over an offline render, as the engine runs
them over a preview, plus the rules that need every committed stack file.

The evaluation's resources become the ``ResourceValidationArgs`` and ``StackValidationArgs``
the engine would pass (props are the same wire-name inputs; parents and dependencies linked),
every policy of :data:`~mlops_resources.policies.POLICIES` runs with its effective enforcement
level (policy config over the policy's own level), and violations come back as data.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from mlops_resources.config.load import validated_stacks
from mlops_resources.offline.evaluation import DeclaredResource, Evaluation
from mlops_resources.policies import POLICIES
from mlops_resources.policies.cross_stack import cross_stack_violations
from mlops_resources.policies.support import ENVIRONMENT_SCHEMA

STACK = "(stack)"


@dataclass(frozen=True, order=True)
class Violation:
    """One policy violation: policy, resource (logical name), message, enforcement level."""

    level: str
    policy: str
    resource: str
    message: str

    @property
    def mandatory(self) -> bool:
        return self.level == EnforcementLevel.MANDATORY.value


def load_policy_config(path: Path | None) -> dict[str, Any]:
    """A policy config file as ``pulumi preview --policy-pack-config`` takes it."""
    if path is None:
        return {}
    document = json.loads(path.read_text())
    if not isinstance(document, dict):
        raise ValueError(f"{path}: expected a JSON object of policy name -> level or settings")
    return document


def _level_and_settings(policy: Policy, config: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    default = (policy.enforcement_level or EnforcementLevel.ADVISORY).value
    entry = config.get(policy.name)
    if entry is None:
        return default, {}
    if isinstance(entry, str):
        return EnforcementLevel(entry).value, {}
    settings = {k: v for k, v in entry.items() if k != "enforcementLevel"}
    return EnforcementLevel(entry.get("enforcementLevel", default)).value, settings


def _urns(evaluation: Evaluation, project: str) -> dict[str, str]:
    by_name = {r.name: r for r in evaluation.resources}

    def chain(resource: DeclaredResource) -> str:
        parent = by_name.get(resource.parent or "")
        return f"{chain(parent)}${resource.type}" if parent else resource.type

    return {
        r.name: f"urn:pulumi:{evaluation.stack}::{project}::{chain(r)}::{r.name}"
        for r in evaluation.resources
    }


def _options(resource: DeclaredResource, parent: str | None) -> PolicyResourceOptions:
    return PolicyResourceOptions(
        protect=resource.protect,
        ignore_changes=list(resource.ignore_changes),
        delete_before_replace=resource.delete_before_replace or None,
        aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=[],
        parent=parent,
    )


def policy_resources(evaluation: Evaluation, project: str) -> list[PolicyResource]:
    """The evaluation's resources as the engine hands them to stack policies."""
    urns = _urns(evaluation, project)
    built: dict[str, PolicyResource] = {}
    for resource in evaluation.resources:
        parent = urns.get(resource.parent or "")
        built[resource.name] = PolicyResource(
            resource.type,
            resource.inputs,
            urns[resource.name],
            resource.name,
            _options(resource, parent),
            None,
            None,
            [],
            {},
        )
    for resource in evaluation.resources:
        policy_resource = built[resource.name]
        policy_resource.parent = built.get(resource.parent or "")
        policy_resource.dependencies = [built[d] for d in resource.dependencies if d in built]
    return list(built.values())


def _reporter(
    into: list[Violation], level: str, policy: str, by_urn: Mapping[str, str], default: str
) -> Callable[[str, str | None], None]:
    """A ``report_violation`` callback that records into ``into``; a violation without a URN
    belongs to ``default`` (the resource being validated, or the stack)."""

    def report(message: str, urn: str | None = None) -> None:
        into.append(Violation(level, policy, by_urn.get(urn or "", default), message))

    return report


def run_policies(
    evaluation: Evaluation,
    project: str,
    config: Mapping[str, Any] | None = None,
    policies: Sequence[Policy] = POLICIES,
) -> list[Violation]:
    """Every violation the policies report for the evaluated stack, sorted."""
    config = config or {}
    resources = policy_resources(evaluation, project)
    by_urn = {r.urn: r.name for r in resources}
    violations: list[Violation] = []
    for policy in policies:
        level, settings = _level_and_settings(policy, config)
        if level == EnforcementLevel.DISABLED.value:
            continue
        if policy.config_schema is ENVIRONMENT_SCHEMA:
            settings = {"environment": evaluation.stack, **settings}
        if isinstance(policy, ResourceValidationPolicy):
            for resource in resources:
                if resource.resource_type.startswith("mlops:"):
                    continue  # components: the engine validates their children
                args = ResourceValidationArgs(
                    resource.resource_type,
                    resource.props,
                    resource.urn,
                    resource.name,
                    resource.opts,
                    None,
                    settings,
                )
                report = _reporter(violations, level, policy.name, by_urn, resource.name)
                policy.validate(args, report)
        elif isinstance(policy, StackValidationPolicy):
            report = _reporter(violations, level, policy.name, by_urn, STACK)
            policy.validate(StackValidationArgs(resources, settings), report)
    return sorted(violations)


def cross_stack(project_dir: Path, stacks: Sequence[str]) -> list[Violation]:
    """The cross-stack rules over the given stack files of the mlops program."""
    return [
        Violation(EnforcementLevel.MANDATORY.value, v.policy, v.stack, v.message)
        for v in cross_stack_violations(validated_stacks(stacks, project_dir))
    ]


def committed_stack_names(project_dir: Path) -> list[str]:
    """Every ``Pulumi.<stack>.yaml`` next to a program's ``Pulumi.yaml``."""
    return sorted(
        p.name.removeprefix("Pulumi.").removesuffix(".yaml")
        for p in project_dir.glob("Pulumi.*.yaml")
    )


def format_violations(stack: str, violations: Sequence[Violation], policies: int) -> str:
    if not violations:
        return f"Stack {stack}: no violation of the {policies} policies."
    width = max(len(v.policy) for v in violations)
    resource_width = max(len(v.resource) for v in violations)
    lines = [f"Stack {stack}: {len(violations)} violation(s)"]
    lines += [
        f"  {v.level:<9}  {v.policy:<{width}}  {v.resource:<{resource_width}}  {v.message}"
        for v in violations
    ]
    mandatory = sum(v.mandatory for v in violations)
    lines.append(f"{mandatory} mandatory, {len(violations) - mandatory} advisory")
    return "\n".join(lines)
