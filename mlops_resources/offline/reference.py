"""Config reference tables, generated from the config models so the docs can't drift."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mlops_resources import PROJECT_DIR
from mlops_resources.config.bootstrap import BOOTSTRAP, FOLDER
from mlops_resources.config.reading import Namespace
from mlops_resources.config.stack import MLOPS


@dataclass(frozen=True)
class Program:
    """A Pulumi program of this repository, for the commands that read its config."""

    folder: str
    """Folder of the program in the repository ('' for the root)."""
    namespace: Namespace
    document: str
    """The document (relative to the repository) that holds the program's reference table,
    between ``<!-- <marker>:start -->`` and ``<!-- <marker>:end -->``."""
    marker: str

    @property
    def project_dir(self) -> Path:
        return PROJECT_DIR / self.folder


PROGRAMS = {
    "mlops": Program("", MLOPS, "README.md", "config-reference"),
    "bootstrap": Program(FOLDER, BOOTSTRAP, "docs/deployment.md", "bootstrap-reference"),
}


def reference_table(program: str = "mlops") -> str:
    """A program's config reference, generated from its config models: keys, types, defaults,
    the models' documented examples and descriptions. No stack file is read, so the docs do not
    change when a team's values do."""
    spec = PROGRAMS[program]
    lines = [
        "| key | type | default | example | description |",
        "| --- | --- | --- | --- | --- |",
    ]
    for entry in spec.namespace.reference():
        default = entry.default if entry.default == "required" else f"`{entry.default}`"
        example = f"`{entry.example}`" if entry.example else ""
        lines.append(
            f"| `{entry.key}` | {entry.type} | {default} | {example} | {entry.description} |"
        )
    return "\n".join(lines)


POLICY_MARKER = "policy-reference"


def policy_table() -> str:
    """The policy pack's table: every policy, its level and what it protects, with evidence."""
    from mlops_resources.policies import POLICIES  # pulumi_policy, only when asked
    from mlops_resources.policies.cross_stack import SHARED_GRANTS, SHARED_TABLES

    lines = ["| policy | level | what it protects (evidence) |", "| --- | --- | --- |"]
    for policy in POLICIES:
        level = policy.enforcement_level.value if policy.enforcement_level else "advisory"
        lines.append(f"| `{policy.name}` | {level} | {policy.description} |")
    lines.append(
        f"| `{SHARED_GRANTS}` | mandatory, `check` only | no (group, securable) grant is managed "
        "by two stack files: each Grant revokes the other's privileges |"
    )
    lines.append(
        f"| `{SHARED_TABLES}` | mandatory, `check` only | no stack file writes (output table, "
        "inference log) a table another stack file reads or writes |"
    )
    return "\n".join(lines)


def _markers(marker: str) -> tuple[str, str]:
    return f"<!-- {marker}:start -->", f"<!-- {marker}:end -->"


def _documented(document: str, marker: str) -> str:
    text = (PROJECT_DIR / document).read_text()
    start, end = _markers(marker)
    return text[text.index(start) + len(start) : text.index(end)].strip()


def _write(document: str, marker: str, table: str) -> bool:
    path = PROJECT_DIR / document
    text = path.read_text()
    start, end = _markers(marker)
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    updated = f"{head}{start}\n{table}\n{end}{tail}"
    if updated == text:
        return False
    path.write_text(updated)
    return True


def documented_table(program: str = "mlops") -> str:
    """The reference table a program's document holds now."""
    spec = PROGRAMS[program]
    return _documented(spec.document, spec.marker)


def write_reference(program: str = "mlops") -> bool:
    """Replace the table in the program's document with the generated one; True if changed."""
    spec = PROGRAMS[program]
    return _write(spec.document, spec.marker, reference_table(program))


def documented_policies() -> str:
    """The policy table README.md holds now."""
    return _documented("README.md", POLICY_MARKER)


def write_policies() -> bool:
    """Replace README.md's policy table with the generated one; True if changed."""
    return _write("README.md", POLICY_MARKER, policy_table())
