"""Where the jobs' notebooks come from: the git repository, or uploaded by the stack."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pulumi
import pulumi_databricks as databricks

from mlops_resources import PROJECT_DIR
from mlops_resources.databricks.common import child_opts

NOTEBOOK_DIR = "notebooks"


class MissingNotebookError(pulumi.RunError):
    """A job references a notebook that is not in the repository."""


def notebook_file(notebook: str, project_dir: Path | None = None) -> Path:
    """The local file of ``notebooks/<notebook>.py``; raises when it does not exist.

    This replaces the Terraform template's ``fileexists`` postcondition: a job pointing at a
    missing notebook fails before anything is declared instead of at its first run.
    """
    project_dir = project_dir or PROJECT_DIR
    path = project_dir / NOTEBOOK_DIR / f"{notebook}.py"
    if not path.is_file():
        raise MissingNotebookError(
            f"job task references notebook '{NOTEBOOK_DIR}/{notebook}', but "
            f"{path.relative_to(project_dir)} does not exist in {project_dir}"
        )
    return path


def support_files(project_dir: Path | None = None) -> list[Path]:
    """Python modules the notebooks import: every ``.py`` file in packages under notebooks/."""
    root = (project_dir or PROJECT_DIR) / NOTEBOOK_DIR
    return sorted(
        path
        for path in root.glob("*/**/*.py")
        if "__pycache__" not in path.parts and "tests" not in path.relative_to(root).parts
    )


def _content(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode("ascii")


@dataclass(frozen=True)
class CodeSourceArgs:
    """Inputs of :class:`CodeSource`."""

    type: Literal["git", "workspace"]
    """'git': jobs check the repository out; 'workspace': this component uploads the notebooks."""
    notebooks: tuple[str, ...]
    """Notebook names under notebooks/, without ``.py``, that jobs run."""
    workspace_dir: str
    """Workspace folder the notebooks are uploaded to (workspace only)."""
    git_url: str | None = None
    """Repository URL (git only)."""
    git_provider: str | None = None
    """Jobs API git provider name (git only)."""
    git_branch: str | None = None
    """Branch to run (git only)."""
    git_tag: str | None = None
    """Tag to run (git only)."""
    folder: pulumi.Resource | None = None
    """The workspace folder resource that holds ``workspace_dir``: uploads are created after
    it and deleted before it (workspace only)."""


class CodeSource(pulumi.ComponentResource):
    """Resolves notebook paths for job tasks, uploading notebooks in workspace mode."""

    def __init__(
        self, name: str, args: CodeSourceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mlops:databricks:CodeSource", name, None, opts)
        files = {notebook: notebook_file(notebook) for notebook in sorted(args.notebooks)}
        self._paths: dict[str, pulumi.Input[str]] = {}
        self.git_source: databricks.JobGitSourceArgs | None = None
        if args.type == "git":
            self.task_source = "GIT"
            self.git_source = databricks.JobGitSourceArgs(
                url=args.git_url or "",
                provider=args.git_provider,
                branch=args.git_branch,
                tag=args.git_tag,
            )
            for notebook in files:
                self._paths[notebook] = f"{NOTEBOOK_DIR}/{notebook}"
        else:
            self.task_source = "WORKSPACE"
            self._upload(name, args, files)
        self.register_outputs({})

    def _upload(self, name: str, args: CodeSourceArgs, files: dict[str, Path]) -> None:
        workspace_dir = args.workspace_dir
        modules = support_files()
        # Every folder the uploads need is a resource. An upload creates a missing parent
        # folder itself (provider workspace/resource_notebook.go, resource_workspace_file.go:
        # mkdirs, then retry) and that folder belongs to no resource, so removing the uploads
        # (code_source back to git, or destroying a stack whose folder is protected and kept)
        # would leave it behind. These folders hold only uploaded code, so they are deleted
        # recursively (the Workspace API refuses a non-empty folder otherwise).
        relative_dirs = sorted(
            {""}
            | {
                "/".join(parts[: depth + 1])
                for p in modules
                for parts in [p.parent.relative_to(PROJECT_DIR / NOTEBOOK_DIR).parts]
                for depth in range(len(parts))
            }
        )
        folders: dict[str, pulumi.Resource] = {}
        for relative in relative_dirs:
            parent = folders.get(relative.rpartition("/")[0]) if relative else args.folder
            folders[relative] = databricks.Directory(
                f"{name}-folder-{relative}" if relative else f"{name}-folder",
                path=f"{workspace_dir}/{relative}" if relative else workspace_dir,
                delete_recursive=True,
                opts=child_opts(self, depends_on=[parent] if parent else None),
            )
        # Modules first: a notebook that imports them must not run before they exist.
        uploaded_modules: list[pulumi.Resource] = []
        for path in modules:
            relative = path.relative_to(PROJECT_DIR / NOTEBOOK_DIR).as_posix()
            folder = folders[path.parent.relative_to(PROJECT_DIR / NOTEBOOK_DIR).as_posix()]
            uploaded_modules.append(
                databricks.WorkspaceFile(
                    f"{name}-file-{relative}",
                    path=f"{workspace_dir}/{relative}",
                    content_base64=_content(path),
                    opts=child_opts(self, depends_on=[folder]),
                )
            )
        for notebook, path in files.items():
            uploaded = databricks.Notebook(
                f"{name}-notebook-{notebook}",
                path=f"{workspace_dir}/{notebook}",
                language="PYTHON",
                content_base64=_content(path),
                opts=child_opts(self, depends_on=[folders[""], *uploaded_modules]),
            )
            self._paths[notebook] = uploaded.path

    def notebook_path(self, notebook: str) -> pulumi.Input[str]:
        """Path a job task gives as ``notebook_path`` for ``notebooks/<notebook>.py``."""
        return self._paths[notebook]
