"""IAM policy documents built from Outputs, without provider calls.

``aws.iam.get_policy_document`` is an invoke: it needs the provider at preview and a mock in
tests. Plain JSON built with ``Output.json_dumps`` needs neither and keeps a stable key order.
"""

from __future__ import annotations

from typing import Any

import pulumi

VERSION = "2012-10-17"


def policy_json(*statements: dict[str, Any]) -> pulumi.Output[str]:
    """A policy document of ``statements``; values may be Outputs (ARNs)."""
    document: dict[str, Any] = {"Version": VERSION, "Statement": list(statements)}
    return pulumi.Output.json_dumps(document)
