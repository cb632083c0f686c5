"""What a stranger adopting consentkit gets: a licensed sdist and wheel, metadata, a version, quiet logging."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import tarfile
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

import consentkit

REPO = Path(__file__).resolve().parents[1]
GUIDES = sorted(p.relative_to(REPO / "docs").as_posix() for p in (REPO / "docs").rglob("*.md"))


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(REPO)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return out


def test_the_wheel_carries_the_license_and_metadata(dist: Path) -> None:
    (wheel,) = dist.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (metadata_name,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        metadata = Parser().parsestr(archive.read(metadata_name).decode("utf-8"))
        license_names = [n for n in names if n.endswith("/LICENSE")]
        assert license_names, names
        assert b"MIT License" in archive.read(license_names[0])
    assert metadata["Version"] == consentkit.__version__
    assert metadata["License-Expression"] == "MIT"
    assert "consentkit/templatetags/consentkit.py" in names  # {% load consentkit %}
    assert "consentkit/static/banner.css" in names


def test_the_sdist_carries_the_license_changelog_and_tests(dist: Path) -> None:
    (sdist,) = dist.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = {n.split("/", 1)[1] for n in archive.getnames() if "/" in n}
    assert {"LICENSE", "CHANGELOG.md", "README.md", "pyproject.toml"} <= names
    assert "src/consentkit/__init__.py" in names and "tests/conftest.py" in names
    assert {f"docs/{guide}" for guide in GUIDES} <= names


def test_the_wheel_carries_every_guide(dist: Path) -> None:
    (wheel,) = dist.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        for guide in GUIDES:
            assert archive.read(f"consentkit/_docs/{guide}") == (REPO / "docs" / guide).read_bytes(), guide


def test_an_installed_wheel_prints_its_guides(dist: Path, tmp_path: Path) -> None:
    """``consentkit docs`` in an installed copy (the wheel unpacked onto the path, no checkout nearby)."""
    (wheel,) = dist.glob("*.whl")
    site = tmp_path / "env" / "site-packages"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    env = {**os.environ, "PYTHONPATH": str(site)}

    def consentkit_docs(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "consentkit.cli", "docs", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )

    where = consentkit_docs("--path")
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()) == site / "consentkit" / "_docs"
    deployment = consentkit_docs("deployment")
    assert deployment.returncode == 0, deployment.stderr
    assert (
        deployment.stdout == (REPO / "docs" / "deployment.md").read_text(encoding="utf-8").rstrip("\n") + "\n"
    )
    listing = consentkit_docs()
    assert {line.split()[0] for line in listing.stdout.splitlines()[: len(GUIDES)]} == {
        guide.removesuffix(".md") for guide in GUIDES
    }


def test_consentkit_version() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "consentkit.cli", "--version"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    from consentkit import scanner

    assert result.stdout.strip() == f"consentkit {consentkit.__version__} ({scanner.describe()})"


def test_consentkit_version_is_one_line_in_a_narrow_terminal() -> None:
    """The pure-Python scanner's reason is long: the line is not wrapped (argparse's action did)."""
    env = {**os.environ, "COLUMNS": "30", "CONSENTKIT_SCANNER": "python"}
    result = subprocess.run(
        [sys.executable, "-m", "consentkit.cli", "--version"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    assert result.stdout.count("\n") == 1
    assert result.stdout.startswith(f"consentkit {consentkit.__version__} (scanner: pure Python (")


def test_the_consentkit_logger_has_a_null_handler() -> None:
    """Without logging configured, a library's warnings must not go to stderr via logging.lastResort."""
    handlers = logging.getLogger("consentkit").handlers
    assert any(isinstance(h, logging.NullHandler) for h in handlers)


def test_the_changelog_names_this_version() -> None:
    text = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"## {consentkit.__version__}" in text or "## Unreleased" in text


def test_readme_links_work_outside_the_repository(dist: Path) -> None:
    """Relative links reach files shipped in the sdist; the guides they name are installed for ``consentkit docs``."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    targets = [t.split("#", 1)[0] for t in re.findall(r"\]\(([^)\s]+)\)", text)]
    relative = [t for t in targets if t and not re.match(r"[a-z]+:", t)]
    assert "docs/policy.md" in relative
    (sdist,) = dist.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        shipped = {n.split("/", 1)[1] for n in archive.getnames() if "/" in n}
    missing = [t for t in relative if t not in shipped]
    assert missing == []
    assert {t.removeprefix("docs/") for t in relative if t.startswith("docs/") and t.endswith(".md")} <= set(
        GUIDES
    )
    assert "consentkit docs NAME" in text


def test_install_instructions_name_no_host() -> None:
    """No public home has been chosen: a Git install line carries a placeholder, never a guessed URL."""
    for path in [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]:
        text = path.read_text(encoding="utf-8")
        for found in re.finditer(r"git\+", text):
            assert text.startswith("<repository URL>", found.end()), (
                path.name,
                text[found.start() : found.end() + 40],
            )


def test_readme_quick_start_is_two_commands() -> None:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Quickstart") :]
    block = section[
        section.index("```console") + len("```console") : section.index(
            "```", section.index("```console") + 3
        )
    ]
    commands = [line for line in block.strip().splitlines() if line.strip()]
    assert [c.split("#")[0].strip() for c in commands] == ["make demo", "make test"]
