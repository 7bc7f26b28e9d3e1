"""Checks a job runs before it takes a credential: ``python -m mlops_resources.delivery.guards``.

``host --stack S --expected URL``: the stack file's ``databricks:host`` must be the workspace
the job's GitHub environment names (its ``DATABRICKS_HOST`` variable, which no pull request can
change), and in a Databricks domain. The Databricks SDK exchanges the job's GitHub OIDC token
at the configured host's token endpoint (installed databricks-sdk 0.162.0,
``credentials_provider.py`` ``_oidc_credentials_provider``: ``token_url=cfg.
databricks_oidc_endpoints.token_endpoint``; ``config.py`` ``databricks_oidc_endpoints``
derives it from ``cfg.host``): a host changed in a reviewed pull request would otherwise
receive a replayable token of the environment's principal.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlparse

from mlops_resources import PROJECT_DIR
from mlops_resources.config.host import DATABRICKS_HOST_KEY
from mlops_resources.config.load import validate
from mlops_resources.config.reading import ConfigError, RawConfig
from mlops_resources.config.stack_files import StackFileError, read_stack_file

VARIABLE = "DATABRICKS_HOST"
"""The GitHub environment variable that holds the environment's workspace URL."""


def _normal(url: str) -> tuple[str, str]:
    parsed = urlparse(url.strip())
    return parsed.scheme, (parsed.netloc or "").lower()


def host_problems(stack: str, expected: str, project_dir: Path = PROJECT_DIR) -> list[str]:
    """Why ``stack``'s workspace host may not get this environment's token; none when it may."""
    if not expected.strip():
        return [
            f"the job's GitHub environment has no {VARIABLE} variable: set it to the workspace "
            f"URL of stack {stack} (docs/deployment.md, section 4); refusing to guess"
        ]
    try:
        source = read_stack_file(stack, project_dir)
        validate(RawConfig.from_stack_file(source), stack)
    except ConfigError as error:
        return [str(error)]
    except StackFileError as error:
        return [str(error)]
    host = source.values[DATABRICKS_HOST_KEY]
    if _normal(host) != _normal(expected):
        return [
            f"{source.path.name}: {DATABRICKS_HOST_KEY} is {host!r}, but this GitHub "
            f"environment's {VARIABLE} is {expected!r}: refusing to send the environment's "
            "token to another workspace (if the workspace really moved, an admin changes the "
            "variable first)"
        ]
    return []


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mlops_resources.delivery.guards",
        description="Checks a CI job runs before it takes a credential.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    host = commands.add_parser("host", help="the stack's databricks:host is the environment's")
    host.add_argument("--stack", required=True, help="stack whose Pulumi.<stack>.yaml to read")
    host.add_argument("--expected", required=True, help=f"the environment's {VARIABLE}")
    args = parser.parse_args(argv)
    problems = host_problems(args.stack, args.expected)
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print(f"Pulumi.{args.stack}.yaml: {DATABRICKS_HOST_KEY} is the environment's {VARIABLE}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
