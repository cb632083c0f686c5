"""Build script for the optional C extension; everything else is declared in pyproject.toml.

``consentkit._scan`` (csrc/) is compiled where a C compiler and Python's headers exist. It is
``optional``: where compiling fails (no compiler, no headers), setuptools prints a warning and
installs the pure-Python package, whose ``consentkit._pyscan`` does the same job more slowly
(see docs/native.md). ``CONSENTKIT_NO_EXTENSION=1`` skips the extension on purpose.
"""

import os

from setuptools import Extension, setup

extensions = []
if os.environ.get("CONSENTKIT_NO_EXTENSION") != "1":
    extensions.append(
        Extension(
            "consentkit._scan",
            sources=["csrc/ck_scan.c", "csrc/ck_scanmodule.c"],
            depends=["csrc/ck_scan.h"],
            optional=True,
        )
    )

setup(ext_modules=extensions)
