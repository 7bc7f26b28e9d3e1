"""The engine installer: the Pulumi CLI and plugins only from committed sha256 sums.

Run offline against fake release archives (a CLI archive whose ``pulumi`` is a shell script
that records how it was called); no network here, and no real release archive either.
"""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import subprocess
import tarfile
from collections.abc import Mapping
from pathlib import Path

import pytest

from mlops_resources import PROJECT_DIR
from mlops_resources.delivery.engine import (
    CHECKSUMS,
    PLUGIN_PACKAGES,
    UNPINNED,
    EngineError,
    Fetch,
    install,
    pin,
    read_checksums,
    required_archives,
)

CLI = "pulumi-v3.272.0-linux-x64.tar.gz"
PLUGIN = "pulumi-resource-databricks-v1.118.0-linux-amd64.tar.gz"
CLI_URL = f"https://get.pulumi.com/releases/sdk/{CLI}"
PLUGIN_URL = f"https://get.pulumi.com/releases/plugins/{PLUGIN}"
FAKE_PULUMI = '#!/bin/sh\necho "$@" >> "$(dirname "$0")/calls.log"\n'


def tarball(files: Mapping[str, str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o755
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


RELEASES = {
    CLI_URL: tarball({"pulumi/pulumi": FAKE_PULUMI}),
    PLUGIN_URL: tarball({"pulumi-resource-databricks": "provider"}),
}


def fetch_from(releases: Mapping[str, bytes]) -> Fetch:
    def fetch(url: str) -> bytes:
        return releases[url]

    return fetch


def project(tmp_path: Path, sums: Mapping[str, str]) -> Path:
    """A project with the repository's versions and the given checksums file."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    for name in (".pulumi-version", "requirements.lock.txt"):
        shutil.copy(PROJECT_DIR / name, tmp_path / name)
    (tmp_path / CHECKSUMS).parent.mkdir(parents=True)
    (tmp_path / CHECKSUMS).write_text(
        "# comment\n" + "".join(f"{s}  {n}\n" for n, s in sums.items())
    )
    return tmp_path


def pinned_sums(releases: Mapping[str, bytes]) -> dict[str, str]:
    return {url.rsplit("/", 1)[1]: hashlib.sha256(d).hexdigest() for url, d in releases.items()}


def run(command: list[str]) -> None:
    subprocess.run(command, check=True)


def test_install_unpacks_the_checked_cli_and_installs_each_plugin_from_its_checked_file(
    tmp_path: Path,
) -> None:
    root = project(tmp_path / "repo", pinned_sums(RELEASES))
    dest = tmp_path / "engine"
    bin_dir = install(dest, project_dir=root, fetch=fetch_from(RELEASES), run=run)
    assert bin_dir == dest / "pulumi" and (bin_dir / "pulumi").is_file()
    (call,) = (bin_dir / "calls.log").read_text().splitlines()
    assert call == f"plugin install resource databricks 1.118.0 --file {dest}/archives/{PLUGIN}"
    assert (dest / "archives" / PLUGIN).read_bytes() == RELEASES[PLUGIN_URL]


@pytest.mark.parametrize("tampered", [CLI, PLUGIN])
def test_an_archive_that_differs_from_its_pin_is_refused_and_nothing_is_installed(
    tmp_path: Path, tampered: str
) -> None:
    root = project(tmp_path / "repo", pinned_sums(RELEASES))
    releases = {
        url: (data + b"\0" if url.endswith(tampered) else data) for url, data in RELEASES.items()
    }
    dest = tmp_path / "engine"
    with pytest.raises(EngineError, match=f"{re.escape(tampered)} has sha256 .* refusing"):
        install(dest, project_dir=root, fetch=fetch_from(releases), run=run)
    assert not dest.exists()


@pytest.mark.parametrize("state", ["unpinned", "missing"])
def test_an_archive_without_a_committed_sum_is_refused_before_any_download(
    tmp_path: Path, state: str
) -> None:
    sums = pinned_sums(RELEASES)
    if state == "unpinned":
        sums[PLUGIN] = UNPINNED
    else:
        del sums[PLUGIN]
    root = project(tmp_path / "repo", sums)

    def no_network(url: str) -> bytes:
        raise AssertionError(f"downloaded {url}")

    with pytest.raises(EngineError, match=f"{re.escape(PLUGIN)}.*engine pin"):
        install(tmp_path / "engine", project_dir=root, fetch=no_network)


def test_a_malformed_checksums_line_names_the_file_line_and_form(tmp_path: Path) -> None:
    path = tmp_path / "sums.txt"
    path.write_text("# ok\nabc123  pulumi.tar.gz\n")
    with pytest.raises(EngineError, match=r"pulumi-checksums.txt:2: expected '<sha256>  <archive"):
        read_checksums(path)


def test_committed_checksums_name_exactly_the_archives_of_the_pinned_versions() -> None:
    """``.pulumi-version`` and the lock decide the archives; a version bump without a new pin
    fails here (and the engine jobs would refuse to install)."""
    committed = read_checksums(PROJECT_DIR / CHECKSUMS)
    assert sorted(committed) == sorted(a.name for a in required_archives())
    assert sorted(committed) == [PLUGIN, CLI]


def test_the_stack_program_uses_no_provider_sdk_but_the_pinned_plugins() -> None:
    """A provider's plugin loads only when a resource of it is registered (pulumi/pulumi
    ``pkg/engine/update.go``: "Provider plugins are loaded lazily by the provider registry"),
    so the plugins to pin are those of the SDKs the stack program's modules import."""
    sources = [PROJECT_DIR / "__main__.py", *(PROJECT_DIR / "mlops_resources").rglob("*.py")]
    stack_program = [
        p for p in sources if not p.is_relative_to(PROJECT_DIR / "mlops_resources" / "aws")
    ]
    imported = {
        m
        for p in stack_program
        for m in re.findall(r"^\s*(?:import|from) (pulumi_\w+)", p.read_text(), re.MULTILINE)
    }
    providers = {m for m in imported if m not in ("pulumi_policy",)}
    assert providers == {p.replace("-", "_") for p in PLUGIN_PACKAGES}


def test_pin_writes_sums_checked_against_pulumis_published_checksum_files(tmp_path: Path) -> None:
    """The CLI's file holds sha256 sums (``sha256sum``, pulumi/pulumi
    ``.github/workflows/sign.yml``); a provider's holds SHA-1 sums of ``./<archive>``
    (``shasum ./*.tar.gz``, pulumi/pulumi-databricks ``.github/workflows/publish.yml``)."""
    root = project(tmp_path, {})
    cli, plugin = (RELEASES[a.url] for a in required_archives(root))
    published = {
        **RELEASES,
        "https://get.pulumi.com/releases/sdk/pulumi-3.272.0-checksums.txt": (
            f"{hashlib.sha256(b'other').hexdigest()}  pulumi-v3.272.0-linux-arm64.tar.gz\n"
            f"{hashlib.sha256(cli).hexdigest()}  {CLI}\n"
        ).encode(),
        "https://github.com/pulumi/pulumi-databricks/releases/download/v1.118.0/"
        "pulumi-databricks_1.118.0_checksums.txt": (
            f"{hashlib.sha1(plugin).hexdigest()}  ./{PLUGIN}\n".encode()
        ),
    }
    text = pin(root, fetch_from(published))
    (root / CHECKSUMS).write_text(text)
    assert read_checksums(root / CHECKSUMS) == pinned_sums(RELEASES)
    forged = {**published, CLI_URL: cli + b"x"}
    with pytest.raises(EngineError, match=f"{CLI}: .* not pinning it"):
        pin(root, fetch_from(forged))
