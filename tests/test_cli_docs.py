"""``consentkit docs``: the guides, readable without the repository (the installed copy is in test_packaging)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from consentkit.cli import main

DOCS = Path(__file__).resolve().parents[1] / "docs"


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    status = main(["docs", *argv], out=out)
    return status, out.getvalue()


def test_docs_lists_every_guide_with_its_title() -> None:
    status, out = run()
    assert status == 0
    for path in DOCS.rglob("*.md"):
        name = path.relative_to(DOCS).with_suffix("").as_posix()
        title = next(
            line[2:].strip()
            for line in path.read_text(encoding="utf-8").splitlines()
            if line.startswith("# ")
        )
        assert any(line.split(None, 1) == [name, title] for line in out.splitlines()), (name, out)
    assert "demo-screenshot" not in out


@pytest.mark.parametrize(
    ("name", "file"),
    [
        ("deployment", "deployment.md"),
        ("integrations/django", "integrations/django.md"),
        ("docs/policy.md", "policy.md"),
        ("threat-model.md", "threat-model.md"),
        ("flask", "integrations/flask.md"),  # the folder may be left out when the name is unique
    ],
)
def test_docs_prints_one_guide(name: str, file: str) -> None:
    status, out = run(name)
    assert status == 0
    assert out == (DOCS / file).read_text(encoding="utf-8").rstrip("\n") + "\n"


def test_docs_path_says_where_the_guides_are() -> None:
    status, out = run("--path")
    assert status == 0
    assert (Path(out.strip()) / "deployment.md").read_bytes() == (DOCS / "deployment.md").read_bytes()
    status, out = run("integrations/quart", "--path")
    assert status == 0
    assert Path(out.strip()).read_bytes() == (DOCS / "integrations" / "quart.md").read_bytes()


@pytest.mark.parametrize("name", ["nosuch", "../README", "../../pyproject.toml", "integrations", ""])
def test_an_unknown_guide_is_an_error_that_names_the_guides(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out = run(name)
    assert status == 1
    assert out == ""
    err = capsys.readouterr().err
    assert f"no guide named {name!r}" in err
    assert "deployment" in err and "integrations/django" in err
