"""The deployment guide's shell blocks, checked for what can be checked offline: they run in
one shell, one after another, as a reader pastes them, so no exported variable and no ``cd``
may outlive its block, and every program output a block reads must exist."""

from __future__ import annotations

import dataclasses
import fnmatch
import json
import re
import textwrap
from dataclasses import dataclass
from functools import cache
from typing import Any

import pytest
import yaml

from mlops_resources import PROJECT_DIR
from mlops_resources.config.stack_files import load_yaml
from mlops_resources.offline.evaluation import evaluate
from mlops_resources.offline.templates import RELEASE_TAG_PATTERN, TeamAnswers, answer_problems
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


_HEREDOC = re.compile(
    r"<<-?\s*(?P<quote>'?)(?P<tag>\w+)'?[^\n]*\n(?P<body>.*?)^\s*(?P=tag)$", re.S | re.M
)
_YAML_BLOCK = re.compile(r"^( *)```yaml\n(.*?)^\1```", re.S | re.M)


def heredocs(block: str) -> list[tuple[bool, str]]:
    """(expanded: the shell substitutes variables in it, body) of each here-document."""
    return [(not m["quote"], m["body"]) for m in _HEREDOC.finditer(block)]


def json_documents(text: str) -> list[Any]:
    """Every JSON document the guide's blocks feed to a command (``--input - <<EOF``), parsed
    with each shell variable standing for a number, as the ids it holds are."""
    documents = []
    for block in blocks(text):
        for expanded, body in heredocs(block):
            if body.lstrip().startswith("{"):
                source = re.sub(r"\$(?:\{\w+\}|\w+)", "0", body) if expanded else body
                documents.append(json.loads(source))
    return documents


def test_every_yaml_and_json_block_of_the_guide_parses() -> None:
    """A reader pastes them: the monitoring example once had an unquoted Quartz expression in
    a flow mapping (``{quartz_cron: 0 0 8 * * ?}``), which no YAML parser reads."""
    yaml_blocks = [textwrap.dedent(m[2]) for m in _YAML_BLOCK.finditer(GUIDE)]
    assert yaml_blocks
    for block in yaml_blocks:
        assert isinstance(load_yaml(block), dict)
    assert len(json_documents(GUIDE)) >= 4


def test_the_yaml_check_catches_the_old_monitoring_example() -> None:
    with pytest.raises(yaml.YAMLError):
        load_yaml("schedule: {quartz_cron: 0 0 8 * * ?}\n")


_ASSIGNED = re.compile(r"(?:^\s*|[;&|(]\s*|\bexport\s+|\bfor\s+)(\w+)(?:=|\s+in\b)")
_READ = re.compile(r"\$\{?([A-Za-z_]\w*)")
ENVIRONMENT = {"HOME", "PWD", "OLDPWD"}
"""Variables every shell sets."""


def _words(block: str) -> list[str]:
    """The block's lines as the shell reads them for variables: comments, single-quoted text
    and quoted here-documents (no substitution there) left out."""
    for expanded, body in heredocs(block):
        if not expanded:
            block = block.replace(body, "")
    block = re.sub(r"'[^']*'", "''", block)
    block = re.sub(r"<[^<>\n]*>", "PLACEHOLDER", block)  # <staging run-as application id>
    return [re.sub(r"(^|\s)#.*$", "", line) for line in block.splitlines()]


def unset_reads(text: str) -> list[tuple[int, str]]:
    """(block, variable) of each variable a block reads that neither that block (before) nor
    the first block of its section sets: a reader may skip any other block (an optional step,
    another section), and an unset variable expands to nothing."""
    found = []
    number = 0
    for section in re.split(r"^## ", text, flags=re.M):
        setup: set[str] = set()
        for index, block in enumerate(blocks(section)):
            assigned = set(ENVIRONMENT) | setup
            for line in _words(block):
                for name in _READ.findall(line):
                    if name not in assigned:
                        found.append((number, name))
                assigned |= set(_ASSIGNED.findall(line))
            if index == 0:
                setup = assigned - ENVIRONMENT
            number += 1
    return found


def test_every_variable_a_block_reads_is_set_before() -> None:
    assert unset_reads(GUIDE) == []


def test_the_variable_check_catches_what_broke_the_old_guide() -> None:
    """The rulesets block read ``$team``, set only in the optional reviewers block before it
    (GitHub Enterprise only): without it the bypass actor was ``"actor_id": ,``."""
    old = (
        "## 4. GitHub\n```bash\nrepo=a/b\n```\n```bash\nteam=$(gh api x --jq .id)\n```\n"
        '```bash\ngh api "repos/$repo/rulesets" --input - <<EOF\n{"id": $team}\nEOF\n```\n'
    )
    assert unset_reads(old) == [(2, "team")]


def test_prod_tags_init_accepts_are_the_tags_the_guide_protects() -> None:
    """Prod runs a tag nobody may move (section 9); the guide's tag rulesets protect
    ``refs/tags/v*`` only, so ``init`` refuses a prod tag outside that pattern."""
    tag_rulesets = [d for d in json_documents(GUIDE) if d.get("target") == "tag"]
    assert len(tag_rulesets) == 2
    for ruleset in tag_rulesets:
        assert ruleset["conditions"]["ref_name"]["include"] == [f"refs/tags/{RELEASE_TAG_PATTERN}"]
    assert fnmatch.fnmatchcase(TeamAnswers().prod_tag, RELEASE_TAG_PATTERN)
    assert answer_problems(dataclasses.replace(TeamAnswers(), prod_tag="release-2"))


def _ignored(path: str) -> bool:
    patterns = [p.strip() for p in (PROJECT_DIR / ".gitignore").read_text().splitlines()]
    name = path.rsplit("/", 1)[-1]
    return any(
        fnmatch.fnmatch(path, p.rstrip("/"))
        or fnmatch.fnmatch(name, p.rstrip("/").rsplit("/", 1)[-1])
        for p in patterns
        if p and not p.startswith("#")
    )


def leftovers(text: str) -> list[tuple[int, str]]:
    """What a block leaves behind that a second run trips over or `git status` shows: a git
    worktree it adds and does not remove, a file it writes (``> file``) into the repository
    that is not ignored and not removed."""
    found = []
    for number, block in enumerate(blocks(text)):
        words = _words(block)
        joined = "\n".join(words)
        for path in re.findall(r"git worktree add (?:--\S+ )*(\S+)", joined):
            if not re.search(rf"git worktree remove (?:--\S+ )*{re.escape(path)}", joined):
                found.append((number, f"worktree {path}"))
        for path in re.findall(r"(?<![\d&])>\s*([^\s&|;)]+)", joined):
            path = path.strip('"')
            if (
                path.startswith(("$", "/"))
                or _ignored(path)
                or re.search(rf"\brm\b.*\b{re.escape(path)}\b", joined)
            ):
                continue
            found.append((number, f"file {path}"))
    return found


def test_no_guide_block_leaves_a_worktree_or_an_untracked_file() -> None:
    assert leftovers(GUIDE) == []


def test_the_leftover_check_catches_the_old_render_diff_steps() -> None:
    old = (
        "```bash\ngit worktree add --detach ../base main\n"
        '(cd ../base && "$OLDPWD/venv/bin/python" -m m render --format json) > base.json\n'
        "venv/bin/python -m m render --format json > head.json\n```\n"
    )
    assert leftovers(old) == [(0, "worktree ../base"), (0, "file base.json"), (0, "file head.json")]
