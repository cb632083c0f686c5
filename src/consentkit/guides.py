"""The guides in ``docs/``, shipped inside the package so they can be read without the repository."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Guide:
    """One Markdown guide: its name (``deployment``, ``integrations/django``), title and file."""

    name: str
    title: str
    path: Path


def docs_dir() -> Path | None:
    """Where the guides are: ``consentkit/_docs`` in a wheel, ``docs/`` in a checkout, or None."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_docs", here.parents[1] / "docs"):
        if (candidate / "deployment.md").is_file():
            return candidate
    return None


def guides(root: Path) -> dict[str, Guide]:
    """Every ``*.md`` under *root*, by name: the path relative to *root*, without ``.md``."""
    found = {}
    for path in sorted(root.rglob("*.md")):
        name = path.relative_to(root).with_suffix("").as_posix()
        found[name] = Guide(name, _title(path) or name, path)
    return found


def find_guide(root: Path, name: str) -> Guide | None:
    """The guide called *name*; ``docs/`` and ``.md`` are optional, and so is the folder when unique."""
    available = guides(root)
    name = name.strip().removeprefix("docs/").removesuffix(".md")
    if name in available:
        return available[name]
    matches = [g for key, g in available.items() if key.rsplit("/", 1)[-1] == name]
    return matches[0] if len(matches) == 1 else None


def _title(path: Path) -> str:
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.startswith("# "):
                return line[2:].strip()
    return ""
