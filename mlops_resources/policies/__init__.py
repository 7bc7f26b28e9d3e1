"""Guardrails as code: the CrossGuard policies every preview and update of this repository's
programs runs (``policy/`` is the pack's entry point for the engine), and that the offline
``python -m mlops_resources check`` runs over the offline render.

One policy per rule, each with a name, a description a user can act on and an enforcement
level: mandatory where a breach fails an apply, drifts forever, loses data or opens access;
advisory for hygiene. A level is overridden through policy config
(``{"<policy name>": "advisory"}``, or ``{"<policy name>": {"enforcementLevel": ...}}``).
"""

from __future__ import annotations

from pulumi_policy import Policy

from mlops_resources.policies import (
    jobs,
    monitoring,
    protection,
    serving,
    state_backend,
    workspace,
)

PACK_NAME = "mlops-guardrails"

POLICIES: list[Policy] = [
    *workspace.POLICIES,
    *jobs.POLICIES,
    *protection.POLICIES,
    *monitoring.POLICIES,
    *serving.POLICIES,
    *state_backend.POLICIES,
]
"""Every policy of the pack, in the order the README's policy table lists them."""
