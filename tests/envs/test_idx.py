"""The IDX reader on small files the tests write, and the 28x28 ids on a tiny IDX folder."""

from __future__ import annotations

import gzip

import gymnasium as gym
import numpy as np
import pytest

import envs  # noqa: F401  (registers the ids)
from arena.errors import ResourceLimitError
from envs.classification.idx import IdxError, MissingDataError, read_idx
from tests.conftest import run_arena
from tests.envs.idx_data import idx_bytes, make_or_skip, write_idx, write_idx_set


@pytest.mark.parametrize("name", ["a.idx", "a.idx.gz", "gzipped-without-suffix"])
def test_reads_what_was_written_gzipped_or_not(tmp_path, name):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    path = tmp_path / name
    data = idx_bytes(images)
    path.write_bytes(data if name == "a.idx" else gzip.compress(data))
    read = read_idx(path, ndim=3)
    assert read.dtype == np.uint8 and read.flags.writeable
    np.testing.assert_array_equal(read, images)


def test_big_endian_values_come_back_native(tmp_path):
    values = np.array([[-2, 70000, 1]], np.int32)
    read = read_idx(write_idx(tmp_path / "ints", values))
    assert read.dtype == np.int32 and read.dtype.isnative
    np.testing.assert_array_equal(read, values)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "magic number is missing"),
        (b"\x00\x00\x08", "magic number is 000008"),
        (b"PK\x03\x04rest", "magic number is 504b0304"),
        (b"\x00\x00\x07\x01\x00\x00\x00\x01\x00", "magic number is 00000701"),
        (b"\x00\x00\x08\x02\x00\x00\x00\x02", "truncated: its header ends"),
        (b"\x00\x00\x08\x01\x00\x00\x00\x05abc", "only 3 follow"),
        (b"\x00\x00\x08\x01\x00\x00\x00\x02abc", "data past the 2 values"),
    ],
)
def test_corrupt_files_are_refused_naming_the_file(tmp_path, data, message):
    path = tmp_path / "bad-idx3-ubyte"
    path.write_bytes(data)
    with pytest.raises(IdxError, match=message) as caught:
        read_idx(path)
    assert str(path) in str(caught.value)


def test_a_truncated_gzip_is_refused(tmp_path):
    path = tmp_path / "cut.gz"
    images = np.random.default_rng(0).integers(0, 256, (50, 28, 28), dtype=np.uint8)
    data = gzip.compress(idx_bytes(images))
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(IdxError, match=r"cut\.gz"):
        read_idx(path)


def test_wrong_dimensions_and_missing_files_are_refused(tmp_path):
    path = write_idx(tmp_path / "labels", np.zeros(3, np.uint8))
    with pytest.raises(IdxError, match="1-D array; 3-D was expected"):
        read_idx(path, ndim=3)
    with pytest.raises(IdxError, match="does not exist"):
        read_idx(tmp_path / "absent")


def test_a_huge_declared_size_is_refused_before_reading(tmp_path, monkeypatch):
    monkeypatch.setenv("ARENA_MEMORY_LIMIT", "1M")
    path = tmp_path / "huge.gz"
    path.write_bytes(
        gzip.compress(b"\x00\x00\x08\x03" + np.array([60000, 28, 28], ">u4").tobytes())
    )
    with pytest.raises(ResourceLimitError, match=r"huge\.gz"):
        read_idx(path)


@pytest.mark.parametrize("gz", [True, False])
def test_mnist_id_plays_a_folder_of_idx_files(tmp_path, gz):
    train_y, test_y = write_idx_set(tmp_path, gz=gz)
    env = gym.make("arena/MNIST-v0", path=str(tmp_path), batch_size=8)
    unwrapped = env.unwrapped
    assert unwrapped.size == len(train_y) and unwrapped.raw.dtype == np.uint8
    assert env.observation_space.shape == (8, 100)
    obs, _ = env.reset(seed=0)
    _, _, _, _, step = env.step(env.action_space.sample())
    np.testing.assert_array_equal(step["labels"], train_y[step["indices"]])
    np.testing.assert_array_equal(obs, unwrapped.X[step["indices"]])
    assert unwrapped.X.dtype == np.float32 and abs(float(unwrapped.X.mean())) < 1e-5
    test = gym.make("arena/MNIST-v0", path=str(tmp_path), split="test", flatten=False)
    assert test.unwrapped.size == len(test_y) and test.observation_space.shape == (10, 10)
    np.testing.assert_array_equal(test.unwrapped.y, test_y)
    assert test.unwrapped.class_names == tuple("0123456789")


def test_files_that_disagree_are_refused(tmp_path):
    write_idx_set(tmp_path)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.zeros(3, np.uint8))
    with pytest.raises(IdxError, match="disagree"):
        gym.make("arena/MNIST-v0", path=str(tmp_path))
    write_idx_set(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.full(60, 10, np.uint8))
    with pytest.raises(IdxError, match="the label 10; mnist has 10 classes"):
        gym.make("arena/MNIST-v0", path=str(tmp_path))


def test_missing_files_say_how_to_get_them(tmp_path):
    with pytest.raises(MissingDataError, match=r"no default folder.*path=DIR"):
        gym.make("arena/MNIST-v0")
    with pytest.raises(MissingDataError, match="apt-get install dataset-fashion-mnist"):
        gym.make("arena/FashionMNIST-v0", path=str(tmp_path))
    with pytest.raises(ValueError, match="path= is the folder of"):
        gym.make("arena/Iris-v0", path=str(tmp_path))


def test_the_cli_exits_2_with_the_way_to_get_the_files(tmp_path):
    done = run_arena("evaluate", "random", "arena/FashionMNIST-v0", "--env-kwargs", "path=/nope")
    assert done.returncode == 2, done.stderr
    assert "dataset-fashion-mnist" in done.stderr and "Traceback" not in done.stderr


def test_fashion_mnist_where_installed():
    env = make_or_skip("arena/FashionMNIST-v0", split="test", flatten=False)
    unwrapped = env.unwrapped
    assert unwrapped.size == 10_000 and env.observation_space.shape == (28, 28)
    assert unwrapped.class_names[9] == "Ankle boot"
    assert np.bincount(unwrapped.y).tolist() == [1000] * 10


def test_reconstruction_plays_an_idx_folder(tmp_path):
    write_idx_set(tmp_path, gz=False)
    kwargs = {"dataset": "mnist", "path": str(tmp_path), "batch_size": 4, "flatten": False}
    env = gym.make("arena/Reconstruction-v0", split="test", **kwargs)
    assert env.unwrapped.size == 20 and env.observation_space.shape == (4, 10, 10)
    observation, _ = env.reset(seed=0)
    assert observation.min() >= 0 and observation.max() == 1  # the bright row, scaled
    with pytest.raises(ValueError, match="path= is the folder of"):
        gym.make("arena/Reconstruction-v0", dataset="digits", path=str(tmp_path))
