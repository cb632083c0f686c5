"""What a stranger adopting consentkit gets: a licensed sdist and wheel, metadata, a version, quiet logging."""

from __future__ import annotations

import logging
import subprocess
import sys
import tarfile
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

import consentkit

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-d", str(out)],
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
    urls = dict(u.split(", ", 1) for u in metadata.get_all("Project-URL"))
    assert {"Homepage", "Documentation", "Source", "Issues", "Changelog"} <= urls.keys()
    assert all(u.startswith("https://") for u in urls.values())
    assert "consentkit/templatetags/consentkit.py" in names  # {% load consentkit %}
    assert "consentkit/static/banner.css" in names


def test_the_sdist_carries_the_license_changelog_and_tests(dist: Path) -> None:
    (sdist,) = dist.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = {n.split("/", 1)[1] for n in archive.getnames() if "/" in n}
    assert {"LICENSE", "CHANGELOG.md", "README.md", "pyproject.toml"} <= names
    assert "src/consentkit/__init__.py" in names and "tests/conftest.py" in names


def test_consentkit_version() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "consentkit.cli", "--version"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    assert result.stdout.strip() == f"consentkit {consentkit.__version__}"


def test_the_consentkit_logger_has_a_null_handler() -> None:
    """Without logging configured, a library's warnings must not go to stderr via logging.lastResort."""
    handlers = logging.getLogger("consentkit").handlers
    assert any(isinstance(h, logging.NullHandler) for h in handlers)


def test_the_changelog_names_this_version() -> None:
    text = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"## {consentkit.__version__}" in text or "## Unreleased" in text


def test_readme_links_work_outside_the_repository() -> None:
    """PyPI and other renderers show the README without the repository: no relative file links."""
    import re

    text = (REPO / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)\s]+)\)", text)
    assert targets
    relative = [t for t in targets if not t.startswith(("https://", "http://", "#", "mailto:"))]
    assert relative == []


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
