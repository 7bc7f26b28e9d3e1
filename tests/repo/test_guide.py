"""The deployment guide's shell blocks, checked for what can be checked offline: they run in
one shell, one after another, as a reader pastes them, so no exported variable and no ``cd``
may outlive its block, and every program output a block reads must exist."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import pytest

from mlops_resources import PROJECT_DIR
from mlops_resources.offline.evaluation import evaluate
from tests.stacks import bootstrap_dir, bootstrap_stack_file

GUIDE = (PROJECT_DIR / "docs" / "deployment.md").read_text()
_BLOCK = re.compile(r"^( *)```bash\n(.*?)^\1```", re.S | re.M)
_INLINE_SUBSHELL = re.compile(r"\([^()]*\)")


def blocks(text: str) -> list[str]:
    """Every ```bash block, unindented, continuation lines joined."""
    found = []
    for match in _BLOCK.finditer(text):
        indent = len(match[1])
        lines = [line[indent:] for line in match[2].splitlines()]
        found.append("\n".join(lines).replace("\\\n", " "))
    return found


@dataclass(frozen=True)
class Leak:
    block: int
    what: str


def leaks(text: str) -> list[Leak]:
    """Exports not unset, and ``cd``s not undone, by the end of their block. A ``( ... )``
    subshell (a line of its own, or inline) contains both."""
    found = []
    for number, block in enumerate(blocks(text)):
        depth, heredoc = 0, None
        exported: set[str] = set()
        directories: list[str] = []
        for raw in block.splitlines():
            line = raw.split(" #", 1)[0].strip()
            if heredoc:
                heredoc = None if line == heredoc else heredoc
                continue
            if marker := re.search(r"<<-?\s*'?(\w+)'?", line):
                heredoc = marker[1]
            if line == "(":
                depth += 1
                continue
            if line.startswith(")"):
                depth -= 1
                continue
            while _INLINE_SUBSHELL.search(line):
                line = _INLINE_SUBSHELL.sub("", line)
            if depth:
                continue
            for command in re.split(r"&&|;|\|\|", line):
                words = command.split()
                if not words:
                    continue
                if words[0] == "export":
                    exported |= {w.split("=", 1)[0] for w in words[1:] if "=" in w}
                elif words[0] == "unset":
                    exported -= set(words[1:])
                elif words[0] == "cd":
                    target = words[1] if len(words) > 1 else "~"
                    if target in ("-", "..", '"$OLDPWD"') and directories:
                        directories.pop()
                    else:
                        directories.append(target)
        found += [Leak(number, f"export {name}") for name in sorted(exported)]
        found += [Leak(number, f"cd {target}") for target in directories]
    return found


def test_no_guide_block_leaks_an_export_or_a_directory() -> None:
    assert leaks(GUIDE) == []


def test_the_leak_check_catches_what_broke_the_old_guide() -> None:
    """The guide once exported PULUMI_BACKEND_URL for the bootstrap and never unset it, so the
    stacks created afterwards landed in the bootstrap's backend."""
    old = (
        "```bash\ncd bootstrap\n"
        'export PULUMI_BACKEND_URL="file://$PWD/.pulumi-state" X=""\npulumi up\n```\n'
    )
    assert leaks(old) == [
        Leak(0, "export PULUMI_BACKEND_URL"),
        Leak(0, "export X"),
        Leak(0, "cd bootstrap"),
    ]
    fixed = (
        "```bash\n(\n  cd bootstrap\n  export A=1\n)\n(cd x && make)\nexport B=1; unset B\n```\n"
    )
    assert leaks(fixed) == []


@cache
def bootstrap_outputs() -> frozenset[str]:
    return frozenset(evaluate("shared", bootstrap_dir(), bootstrap_stack_file()).outputs)


@cache
def stack_outputs() -> frozenset[str]:
    return frozenset(evaluate("staging").outputs)


def referenced_outputs(text: str) -> set[tuple[str, str]]:
    """(program, output) of every output the blocks read: ``jq`` on ``outputs.json`` (the
    bootstrap's, section 2) and ``pulumi stack output <name>``."""
    found = set()
    for block in blocks(text):
        for line in block.splitlines():
            if "outputs.json" in line and "jq" in line:
                filters = re.findall(r"jq -r ['\"]?([^'\"]+)['\"]? ", line)
                for expression in filters:
                    found |= {("bootstrap", name) for name in re.findall(r"\.(\w+)", expression)}
            for stack, name in re.findall(r"pulumi stack output (?:--stack (\S+) )?(\w+)", line):
                found.add(("bootstrap" if stack == "shared" else "mlops", name))
    return found


def test_every_output_a_block_reads_exists() -> None:
    references = referenced_outputs(GUIDE)
    assert ("bootstrap", "bootstrap_backend_url") in references
    assert ("bootstrap", "role_arns") in references
    for program, name in sorted(references):
        outputs = bootstrap_outputs() if program == "bootstrap" else stack_outputs()
        assert name in outputs, (
            f"the guide reads {program} output {name!r}; it has {sorted(outputs)}"
        )


@pytest.mark.parametrize("program", ["bootstrap"])
def test_the_output_check_catches_a_misspelt_output(program: str) -> None:
    wrong = "```bash\njq -r .backend_uri bootstrap/outputs.json\n```\n"
    assert referenced_outputs(wrong) == {(program, "backend_uri")}
    assert "backend_uri" not in bootstrap_outputs()
