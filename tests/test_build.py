"""Installing consentkit with and without a C compiler.

Both wheels are built from a clean copy of the source (no build/ directory, no compiled
objects), as `pip install .` builds them on a fresh machine, and installed into a fresh venv.
Without a compiler (CC and LDSHARED set to /bin/false) the build must still succeed, leave
the extension out and run the pure-Python scanner, with the demo app inside the wheel.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

import consentkit

ROOT = Path(__file__).parents[1]
IGNORE = shutil.ignore_patterns(
    ".venv", ".git", "build", "dist", "*.so", "*.o", "__pycache__", "*.egg-info", "node_modules", ".*cache",
    ".hypothesis", ".scratch", "artifacts", "results",
)  # fmt: skip

CHECK = """
import asyncio, contextlib, io, json, logging, sys
import httpx
import consentkit, consentkit.cli, consentkit.scanner as scanner
from consentkit.cli import _example_dir, demo_app

logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s", stream=sys.stdout)
scanner.announce()
scanner.announce()  # once per process
app, _, _ = demo_app(audit=sys.argv[1])

async def get():
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        return await client.get("/", headers={"accept": "text/html"})

page = asyncio.run(get())
version = io.StringIO()
with contextlib.redirect_stdout(version), contextlib.suppress(SystemExit):
    consentkit.cli.main(["--version"])
print(json.dumps({
    "version": version.getvalue().strip(),
    "native": scanner.NATIVE, "implementation": scanner.IMPLEMENTATION, "describe": scanner.describe(),
    "module": consentkit.__file__, "example": str(_example_dir()),
    "status": page.status_code, "banner": "_consent" in page.text,
    "gtm_left": "googletagmanager.com/gtag" in page.text,
}))
"""


def build_and_run(tmp: Path, *, compiler: bool) -> tuple[list[str], dict[str, object], str]:
    source = tmp / "src-copy"
    shutil.copytree(ROOT, source, ignore=IGNORE)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONSENTKIT_")}
    if not compiler:
        env |= {"CC": "/bin/false", "LDSHARED": "/bin/false"}
    wheels = tmp / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(wheels), str(source)],
        check=True,
        env=env,
        capture_output=True,
    )
    (wheel,) = wheels.glob("consentkit-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    target = tmp / "venv"
    venv.create(target, with_pip=True)
    python = target / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
    )
    # the runtime dependencies (and httpx) come from this environment; consentkit from the wheel
    deps = sysconfig.get_paths()["purelib"]
    run_env = {k: v for k, v in os.environ.items() if not k.startswith("CONSENTKIT_")} | {"PYTHONPATH": deps}
    result = subprocess.run(
        [str(python), "-c", CHECK, str(tmp / "audit.jsonl")],
        check=True,
        env=run_env,
        capture_output=True,
        text=True,
        cwd=tmp,
    )
    lines = result.stdout.strip().splitlines()
    return names, json.loads(lines[-1]), "\n".join(lines[:-1])


def check_common(names: list[str], facts: dict[str, object], tmp: Path) -> None:
    assert "consentkit/_example/release_page/app.py" in names
    assert "consentkit/_example/release_page/templates/release.en.html" in names
    assert "consentkit/_example/release_page/static/img/favicon.svg" in names
    assert "consentkit/static/banner.css" in names
    assert "consentkit/py.typed" in names
    assert str(facts["module"]).startswith(str(tmp / "venv"))
    assert str(facts["example"]).startswith(str(tmp / "venv"))
    assert facts["status"] == 200
    assert facts["banner"] is True
    assert facts["gtm_left"] is False


def test_without_a_compiler_the_pure_python_scanner_is_installed(tmp_path: Path) -> None:
    names, facts, log = build_and_run(tmp_path, compiler=False)
    assert not [n for n in names if n.endswith(".so")]
    check_common(names, facts, tmp_path)
    assert facts["native"] is False
    assert facts["implementation"] == "python"
    assert log.count("WARNING consentkit scanner: pure Python (the C extension is not installed:") == 1, log
    assert str(facts["version"]).startswith(f"consentkit {consentkit.__version__} (scanner: pure Python (")


def test_with_a_compiler_the_native_scanner_is_installed(tmp_path: Path) -> None:
    if shutil.which(sysconfig.get_config_var("CC").split()[0]) is None:  # pragma: no cover
        if os.environ.get("CI") == "true":
            pytest.fail("CI needs a C compiler to build consentkit._scan")
        pytest.skip("no C compiler on this machine")
    names, facts, log = build_and_run(tmp_path, compiler=True)
    assert [n for n in names if n.startswith("consentkit/_scan.") and n.endswith(".so")]
    check_common(names, facts, tmp_path)
    assert facts["native"] is True
    assert facts["implementation"] == "native"
    assert log.count("INFO consentkit scanner: native (C extension consentkit._scan)") == 1, log
    assert (
        facts["version"]
        == f"consentkit {consentkit.__version__} (scanner: native (C extension consentkit._scan))"
    )
