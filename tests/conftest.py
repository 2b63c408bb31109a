"""Shared fixtures: the real MNIST file (never a synthetic stand-in)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_MNIST = REPO.parent / "shared" / "data" / "mnist.npz"


@pytest.fixture(scope="session")
def mnist_path() -> Path:
    """The real mnist.npz: $MNIST_NPZ, else ../shared/data/mnist.npz, else the loader's own fallbacks."""
    from runtime.mnist_data import MnistDataError, download_mnist, resolve_mnist_path

    if os.environ.get("MNIST_NPZ"):
        path = Path(os.environ["MNIST_NPZ"])
    elif SHARED_MNIST.exists():
        path = SHARED_MNIST
    else:
        try:
            path = resolve_mnist_path() or download_mnist()
        except MnistDataError:  # offline, no copy: one clear line, not a traceback in every test
            pytest.exit("the tests need MNIST: no copy here and the download failed; "
                        "set MNIST_NPZ=/path/to/mnist.npz", returncode=2)
    if not path.exists():
        pytest.fail(f"MNIST not found at {path}: set MNIST_NPZ to a copy of mnist.npz")
    return path


@pytest.fixture(scope="session")
def mnist(mnist_path):
    from runtime.mnist_data import load_mnist

    return load_mnist(mnist_path)


@pytest.fixture(scope="session", autouse=True)
def mnist_for_every_test(mnist_path):
    """The same file for code under test that looks MNIST up itself (a CLI run in-process or in a subprocess,
    `load_mnist(None)`): $MNIST_NPZ set for the session when the README's test command left it unset."""
    if os.environ.get("MNIST_NPZ"):
        yield
        return
    os.environ["MNIST_NPZ"] = str(mnist_path)
    try:
        yield
    finally:
        os.environ.pop("MNIST_NPZ", None)
