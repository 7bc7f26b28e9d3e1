"""Install the Pulumi CLI and its provider plugins from sha256 sums committed in the repository.

``python -m mlops_resources.delivery.engine install --dest DIR`` is what every engine job of
the workflows runs before it takes a credential: it downloads the CLI of ``.pulumi-version``
and the provider plugin of each locked provider SDK (:data:`PLUGIN_PACKAGES`), checks each
archive's sha256 against ``.github/pulumi-checksums.txt`` and refuses to install anything
that differs or is not pinned there; then it unpacks the CLI into ``DIR`` (its ``bin`` is
printed, for ``$GITHUB_PATH``) and installs each plugin with that CLI from the checked file
(``pulumi plugin install resource NAME VERSION --file ARCHIVE``: "Install a plugin from a
binary, folder or tarball, instead of downloading it", pulumi/pulumi ``pkg/cmd/pulumi/plugin/
plugin_install.go``). ``pulumi/actions`` then finds that CLI on the PATH and downloads none:
``downloadCli`` returns early when ``pulumi version`` satisfies the requested version
(pulumi/actions v7.0.0 ``src/libs/pulumi-cli.ts``), and otherwise it downloads the archive the
docs' version list names and checks nothing (same function: ``tc.downloadTool`` then
``tc.extractTar``). The jobs set ``PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION``, so the CLI
installs no plugin of its own either ("Disables the automatic installation of missing
plugins", ``sdk/go/common/env/env.go``); providers load lazily, only when a resource of theirs
is registered ("Provider plugins are loaded lazily by the provider registry",
``pkg/engine/update.go``), which is why only the providers the stack program uses are pinned.

``python -m mlops_resources.delivery.engine pin`` (a maintainer, with network access, after
``.pulumi-version`` or the lock changes) writes that file: the CLI's sums from the checksums
file Pulumi publishes beside each release (``pulumi-<version>-checksums.txt``, written with
``sha256sum`` by pulumi/pulumi ``.github/workflows/sign.yml``; pulumi/actions' version list
names it, ``src/libs/libs/get-version.ts``), each checked against the downloaded archive; a
plugin's sha256 computed from its archive and cross-checked against its release's checksums
file, which holds SHA-1 sums (``shasum ./*.tar.gz``, without ``-a 256``,
pulumi/pulumi-databricks ``.github/workflows/publish.yml``). Review the diff and commit it.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import re
import subprocess
import sys
import tarfile
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from mlops_resources import PROJECT_DIR

CHECKSUMS = Path(".github") / "pulumi-checksums.txt"
"""The committed sums, relative to the project: ``<sha256>  <archive>`` per line."""
UNPINNED = "UNPINNED"
"""Stands for a sum ``pin`` has not written yet: ``install`` refuses the archive."""
PLUGIN_PACKAGES = ("pulumi-databricks",)
"""Locked provider SDKs whose plugin the stack program needs (it declares resources of no other
provider; tests/delivery/test_engine.py checks that against the render)."""
CLI_RELEASES = "https://get.pulumi.com/releases/sdk"
PLUGIN_RELEASES = "https://get.pulumi.com/releases/plugins"
PLATFORM = ("linux-x64", "linux-amd64")
"""How the CLI and the plugins name GitHub's hosted runners' platform."""
_SUM_LINE = re.compile(r"^(?P<sum>[0-9a-f]{64}|UNPINNED)\s+\*?(?P<name>\S+)$")
_LOCKED = re.compile(r"^(?P<name>[A-Za-z0-9_.-]+)==(?P<version>\S+)", re.MULTILINE)

Fetch = Callable[[str], bytes]
"""Downloads a URL's body (tests pass a fake: no network here)."""


class EngineError(Exception):
    """An archive is not pinned, differs from its pin, or cannot be fetched."""


@dataclass(frozen=True)
class Archive:
    """One release archive an engine job installs."""

    name: str
    """File name, as Pulumi publishes it and the checksums file lists it."""
    url: str
    """Where it is downloaded from."""
    plugin: str | None
    """The resource plugin's name (``databricks``); None for the CLI."""
    version: str
    """Release version, without ``v``."""

    @property
    def release_checksums(self) -> str:
        """The checksums file Pulumi publishes beside this archive's release."""
        if self.plugin is None:
            return f"{CLI_RELEASES}/pulumi-{self.version}-checksums.txt"
        return (
            f"https://github.com/pulumi/pulumi-{self.plugin}/releases/download/v{self.version}/"
            f"pulumi-{self.plugin}_{self.version}_checksums.txt"
        )


def required_archives(project_dir: Path = PROJECT_DIR) -> list[Archive]:
    """The CLI of ``.pulumi-version`` and the plugin of each locked :data:`PLUGIN_PACKAGES`."""
    cli = (project_dir / ".pulumi-version").read_text().strip()
    locked = {
        m["name"].lower(): m["version"]
        for m in _LOCKED.finditer((project_dir / "requirements.lock.txt").read_text())
    }
    name = f"pulumi-v{cli}-{PLATFORM[0]}.tar.gz"
    archives = [Archive(name, f"{CLI_RELEASES}/{name}", None, cli)]
    for package in PLUGIN_PACKAGES:
        if package not in locked:
            raise EngineError(f"requirements.lock.txt: {package} is not locked")
        plugin, version = package.removeprefix("pulumi-"), locked[package]
        name = f"pulumi-resource-{plugin}-v{version}-{PLATFORM[1]}.tar.gz"
        archives.append(Archive(name, f"{PLUGIN_RELEASES}/{name}", plugin, version))
    return archives


def read_checksums(path: Path) -> dict[str, str]:
    """Archive name -> sha256 (or :data:`UNPINNED`) from a checksums file; ``#`` comments."""
    sums: dict[str, str] = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _SUM_LINE.match(line.strip())
        if not match:
            raise EngineError(
                f"{CHECKSUMS}:{number}: expected '<sha256>  <archive name>' (64 lowercase hex "
                f"digits, or {UNPINNED}), got {line.strip()!r}"
            )
        sums[match["name"]] = match["sum"]
    return sums


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def pinned(archive: Archive, sums: dict[str, str]) -> str:
    """The sha256 committed for ``archive``; EngineError when there is none."""
    expected = sums.get(archive.name)
    how = f"run `python -m mlops_resources.delivery.engine pin`, review and commit {CHECKSUMS}"
    if expected is None:
        raise EngineError(f"{CHECKSUMS} has no sha256 for {archive.name}: {how}")
    if expected == UNPINNED:
        raise EngineError(f"{CHECKSUMS}: {archive.name} is {UNPINNED}: {how}")
    return expected


def verified(archive: Archive, data: bytes, expected: str) -> bytes:
    """``data`` when its sha256 is ``expected``, the one committed; else EngineError."""
    actual = sha256(data)
    if actual != expected:
        raise EngineError(
            f"{archive.name} has sha256 {actual}, not the {expected} {CHECKSUMS} pins: refusing "
            "to install it (a changed release, or a download that is not Pulumi's)"
        )
    return data


def download(url: str) -> bytes:
    """The body of ``url`` over HTTPS (what Pulumi's release hosts serve)."""
    if not url.startswith("https://"):
        raise EngineError(f"refusing to download {url}: not https")
    with urllib.request.urlopen(url, timeout=300) as response:
        body: bytes = response.read()
    return body


def _unpack(data: bytes, dest: Path) -> None:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        # The "data" filter refuses absolute paths, links out of dest and device files.
        archive.extractall(dest, filter="data")


def install(
    dest: Path,
    *,
    project_dir: Path = PROJECT_DIR,
    fetch: Fetch = download,
    run: Callable[[list[str]], None] | None = None,
) -> Path:
    """Fetch, check and install every :func:`required_archives`; the CLI's ``bin`` folder.

    Nothing is unpacked or installed before every archive has passed its check.
    """
    sums = read_checksums(project_dir / CHECKSUMS)
    archives = required_archives(project_dir)
    expected = {a.name: pinned(a, sums) for a in archives}  # before any download
    checked = {a.name: verified(a, fetch(a.url), expected[a.name]) for a in archives}
    dest.mkdir(parents=True, exist_ok=True)
    cli, *plugins = archives
    _unpack(checked[cli.name], dest)
    # The CLI archive holds a `pulumi/` folder: pulumi, its language hosts and analyzers.
    bin_dir = dest / "pulumi"
    downloads = dest / "archives"
    downloads.mkdir(exist_ok=True)
    for plugin in plugins:
        path = downloads / plugin.name
        path.write_bytes(checked[plugin.name])
        command = [str(bin_dir / "pulumi"), "plugin", "install", "resource", str(plugin.plugin)]
        (run or _run)([*command, plugin.version, "--file", str(path)])
    return bin_dir


def _run(command: list[str]) -> None:
    # Its output to stderr: stdout carries only the bin folder, for $GITHUB_PATH.
    subprocess.run(command, check=True, stdout=sys.stderr)


def _line_for(name: str, text: str) -> str | None:
    """The sum a published checksums file gives ``name`` (``<sum>  [./]<name>`` lines)."""
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].removeprefix("./").lstrip("*") == name:
            return parts[0].lower()
    return None


def pin(project_dir: Path = PROJECT_DIR, fetch: Fetch = download) -> str:
    """The checksums file's text for the current ``.pulumi-version`` and lock, each sum
    computed from the downloaded archive and cross-checked against Pulumi's published one."""
    lines = [
        "# sha256 of each archive the engine jobs install (python -m mlops_resources.delivery."
        "engine install),",
        "# written by `python -m mlops_resources.delivery.engine pin`: each computed from the "
        "archive and",
        "# checked against the checksums file Pulumi publishes with the release. Review, then "
        "commit.",
    ]
    for archive in required_archives(project_dir):
        data = fetch(archive.url)
        published = _line_for(archive.name, fetch(archive.release_checksums).decode())
        ours = sha256(data) if archive.plugin is None else hashlib.sha1(data).hexdigest()
        if published != ours:
            raise EngineError(
                f"{archive.name}: {archive.release_checksums} gives {published}, the download "
                f"hashes to {ours}: not pinning it"
            )
        lines.append(f"{sha256(data)}  {archive.name}")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mlops_resources.delivery.engine",
        description="Install the Pulumi CLI and plugins from committed sha256 sums.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    installing = commands.add_parser("install", help="fetch, check and install; print bin")
    installing.add_argument("--dest", type=Path, required=True, help="folder to install into")
    commands.add_parser("pin", help=f"rewrite {CHECKSUMS} from Pulumi's releases (network)")
    args = parser.parse_args(argv)
    try:
        if args.command == "pin":
            (PROJECT_DIR / CHECKSUMS).write_text(pin())
            print(f"wrote {CHECKSUMS}: review the diff, then commit it")
        else:
            print(install(args.dest))
    except (EngineError, OSError, subprocess.CalledProcessError, tarfile.TarError) as error:
        print(f"engine: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
