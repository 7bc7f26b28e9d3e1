"""``databricks:host``: the workspace the stack deploys to, which must be in a Databricks
domain (or in ``mlops:extra_host_domains``)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlparse

from mlops_resources.config.namespace import NAMESPACE

DATABRICKS_HOST_KEY = "databricks:host"
DATABRICKS_HOST_DOMAINS = ("cloud.databricks.com", "azuredatabricks.net", "gcp.databricks.com")
"""Domains of Databricks workspaces on AWS, Azure and GCP: ``databricks:host`` must be a host
in one of them (or in ``mlops:extra_host_domains``). The SDK posts the job's OIDC token to the
host's token endpoint, so a look-alike host would receive it."""


def host_url_problem(host: str | None) -> str | None:
    expected = "expected a workspace URL like https://dbc-1234.cloud.databricks.com"
    if host is None:
        return f"{DATABRICKS_HOST_KEY}: required key is missing; {expected}"
    if not re.match(r"^https://[A-Za-z0-9.-]+(:\d+)?/?$", host):
        return f"{DATABRICKS_HOST_KEY}: {expected}, got {host!r}"
    return None


def host_domain_problem(host: str, extra_domains: Iterable[str] = ()) -> str | None:
    """A problem when ``host``'s name is not in a Databricks domain (or an extra one)."""
    name = (urlparse(host).hostname or "").lower()
    allowed = (*DATABRICKS_HOST_DOMAINS, *extra_domains)
    if any(name.endswith(f".{domain}") for domain in allowed):
        return None
    return (
        f"{DATABRICKS_HOST_KEY}: {host!r} is not in a Databricks domain ({', '.join(allowed)}); "
        f"a workspace on another Databricks domain goes in {NAMESPACE}:extra_host_domains"
    )
