"""``mlops:code_source``: where the jobs find the notebooks of ``notebooks/``."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator

from mlops_resources.config.checks import NonEmpty
from mlops_resources.config.reading import Section


class CodeSourceConfig(Section):
    """Where jobs find the notebooks of ``notebooks/``."""

    type: Literal["git", "workspace"] = Field(
        examples=["git"],
        description="'git' (jobs check out the repo) or 'workspace' (the stack uploads notebooks)",
    )
    url: NonEmpty | None = Field(
        None,
        examples=["https://github.com/example-org/wine-quality-mlops"],
        description="git repository URL (git only)",
    )
    provider: (
        Literal[
            "gitHub",
            "gitHubEnterprise",
            "bitbucketCloud",
            "bitbucketServer",
            "gitLab",
            "gitLabEnterpriseEdition",
            "azureDevOpsServices",
            "awsCodeCommit",
        ]
        | None
    ) = Field(
        None,
        examples=["gitHubEnterprise"],
        description="git provider, as the Jobs API spells it (git only; default gitHub)",
    )
    branch: NonEmpty | None = Field(
        None, examples=["main"], description="branch to run (git only; exactly one of branch/tag)"
    )
    tag: NonEmpty | None = Field(
        None, examples=["v1.4.0"], description="tag to run (git only; exactly one of branch/tag)"
    )

    @field_validator("url")
    @classmethod
    def _https_url(cls, url: str | None) -> str | None:
        if url is not None and not re.match(r"^https://[^\s/]+/\S+$", url):
            raise ValueError(f"expected an https:// repository URL, got {url!r}")
        return url

    @property
    def git_provider(self) -> str:
        """The provider the jobs' ``git_source`` names."""
        return self.provider or "gitHub"
