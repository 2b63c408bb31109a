"""runtime/mnist_data.py: the loader accepts real MNIST and rejects broken files with a clear error."""

from __future__ import annotations

import numpy as np
import pytest

from runtime.mnist_data import CANONICAL_ARRAY_SHA256, MnistDataError, load_mnist, resolve_mnist_path


def _save(path, **overrides):
    rng = np.random.default_rng(0)
    arrays = {
        "x_train": rng.integers(0, 256, (50, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, 50, dtype=np.uint8),
        "x_test": rng.integers(0, 256, (20, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, 20, dtype=np.uint8),
    }
    arrays.update(overrides)
    np.savez(path, **arrays)
    return path


def test_real_file_is_the_canonical_set(mnist):
    assert mnist.x_train.shape == (60000, 28, 28) and mnist.x_test.shape == (10000, 28, 28)
    assert mnist.x_train.dtype == np.uint8
    assert np.bincount(mnist.y_test, minlength=10).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert mnist.y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]


def test_limit_keeps_first_images(mnist_path, mnist):
    small = load_mnist(mnist_path, limit=100)
    assert len(small.x_train) == 100 and len(small.x_test) == 100
    np.testing.assert_array_equal(small.x_test, mnist.x_test[:100])


def test_path_resolution_order(monkeypatch, tmp_path):
    monkeypatch.setenv("MNIST_NPZ", str(tmp_path / "env.npz"))
    assert resolve_mnist_path(tmp_path / "arg.npz") == tmp_path / "arg.npz"
    assert resolve_mnist_path() == tmp_path / "env.npz"


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(MnistDataError, match=r"nope\.npz: no such file"):
        load_mnist(tmp_path / "nope.npz")


def test_truncated_file(mnist_path, tmp_path):
    broken = tmp_path / "truncated.npz"
    broken.write_bytes(mnist_path.read_bytes()[: 1_000_000])
    with pytest.raises(MnistDataError, match="unreadable or truncated"):
        load_mnist(broken)


def test_not_an_npz(tmp_path):
    bogus = tmp_path / "mnist.npz"
    bogus.write_text("hello")
    with pytest.raises(MnistDataError, match="not an .npz archive") as info:
        load_mnist(bogus)
    assert "allow_pickle" not in str(info.value)  # numpy's own message sent users the wrong way


def test_an_npy_array_is_not_the_npz(tmp_path, mnist):
    single = tmp_path / "x_test.npy"
    np.save(single, mnist.x_test[:10])
    with pytest.raises(MnistDataError, match="a single .npy array, not an .npz archive"):
        load_mnist(single)


@pytest.mark.parametrize(
    "override, message",
    [
        ({"x_train": np.zeros((50, 28, 27), np.uint8)}, r"x_train must have shape \(N, 28, 28\)"),
        ({"x_test": np.zeros((20, 28, 28), np.float32)}, "must be uint8"),
        ({"y_train": np.full(50, 12, np.uint8)}, "label 12"),
        ({"y_test": np.zeros(19, np.uint8)}, r"y_test has shape \(19,\)"),
    ],
)
def test_wrong_arrays_are_rejected(tmp_path, override, message):
    with pytest.raises(MnistDataError, match=message):
        load_mnist(_save(tmp_path / "bad.npz", **override))


def test_missing_array(tmp_path):
    path = tmp_path / "partial.npz"
    np.savez(path, x_train=np.zeros((1, 28, 28), np.uint8))
    with pytest.raises(MnistDataError, match="arrays .* are missing"):
        load_mnist(path)


def test_modified_canonical_set_fails_hash_check(mnist, tmp_path):
    x_test = mnist.x_test.copy()
    x_test[0, 14, 14] ^= 0xFF
    path = tmp_path / "tampered.npz"
    np.savez(path, x_train=mnist.x_train, y_train=mnist.y_train, x_test=x_test, y_test=mnist.y_test)
    with pytest.raises(MnistDataError, match="x_test has the canonical size but sha256"):
        load_mnist(path)
    assert set(CANONICAL_ARRAY_SHA256) == {"x_train", "y_train", "x_test", "y_test"}
