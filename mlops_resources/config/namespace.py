"""The names every module of the stack config shares: the config namespace and the stacks
whose jobs run on schedule."""

from __future__ import annotations

NAMESPACE = "mlops"
"""Config namespace: the Pulumi project name in ``Pulumi.yaml``."""

SCHEDULED_STACKS = ("staging", "prod")
"""Stacks whose job schedules run unless the stack file pauses them; any other stack
(a personal ``dev-<name>`` stack) is paused unless its file says otherwise."""
