"""Fixtures for the signals tests: where the shared test data lives, and decoding it as the reference did.

Test data: ``$SURAKSHA_TESTDATA`` if set, else the ``shared/testdata`` folder found by walking up from
this file (the repository sits beside ``shared/`` in the workspace), else ``.testdata`` from
``scripts/fetch-testdata``. Tests that need it skip, saying how to get it, when none exists; under CI they
fail instead.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image, ImageOps

from suraksha.testing.testdata import find_testdata
from tests import reference_data
from tests.reference_data import HOW

TESTDATA = find_testdata(Path(__file__))


def require_testdata(*parts: str) -> Path:
    return reference_data.require(*parts)


@dataclass(frozen=True)
class ReferenceVector:
    path: str
    reference_pdq: str
    reference_quality: int
    md5: str

    @property
    def file(self) -> Path:
        return require_testdata("pdq", self.path)


def reference_vectors() -> list[ReferenceVector]:
    """Rows of pdq/expected.csv, or [] when the data is missing (the tests using them then skip)."""
    if TESTDATA is None or not (TESTDATA / "pdq" / "expected.csv").exists():
        return []
    with (TESTDATA / "pdq" / "expected.csv").open(newline="") as handle:
        return [
            ReferenceVector(row["path"], row["reference_pdq"], int(row["reference_quality"]), row["md5"])
            for row in csv.DictReader(handle)
        ]


def pillow_rgb(path: Path) -> npt.NDArray[np.uint8]:
    """Decode exactly as expected.csv was made: Pillow, EXIF orientation applied, 8-bit RGB."""
    with Image.open(path) as image:
        return np.ascontiguousarray(np.asarray(ImageOps.exif_transpose(image).convert("RGB")))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """``reference_vector``: one test per row of pdq/expected.csv."""
    if "reference_vector" in metafunc.fixturenames:
        vectors = reference_vectors()
        if vectors:
            metafunc.parametrize("reference_vector", vectors, ids=[v.path for v in vectors])
        else:
            if os.environ.get("CI") == "true":
                reference_data.missing("pdq/expected.csv")  # a collection error: CI never skips these
            metafunc.parametrize(
                "reference_vector",
                [pytest.param(None, marks=pytest.mark.skip(reason=f"pdq/expected.csv not found: {HOW}"))],
            )


@pytest.fixture(scope="session")
def decode_like_reference() -> Callable[[Path], npt.NDArray[np.uint8]]:
    return pillow_rgb


@pytest.fixture(scope="session")
def testdata_dir() -> Path:
    return require_testdata()


@pytest.fixture(scope="session")
def pdq_dir() -> Path:
    return require_testdata("pdq")


@pytest.fixture(scope="session")
def vpdq_dir() -> Path:
    return require_testdata("vpdq")
