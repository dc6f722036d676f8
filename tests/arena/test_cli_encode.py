"""``arena encode`` and the array files it reads: a round trip, and clear refusals."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import numpy as np
import pytest

from arena.arrays import read_array
from arena.capabilities import Encoder, Sampler, capabilities
from arena.cli_arrays import _check_inputs
from arena.errors import ArenaError
from tests.conftest import run_arena, write_distribution

ENCODER_MODULE = '''
"""A third-party encoder: codes are the first two inputs, doubled."""

import numpy as np

from arena.agent import Agent
from arena.capabilities import Encoder


class Doubler(Agent, Encoder):
    """Encodes an input as twice its first two values."""

    @property
    def input_shape(self):
        return self.observation_space.shape

    def act(self, observation, explore=False):
        return self.action_space.sample()

    def encode(self, batch):
        return 2 * batch[:, :2]
'''


@pytest.fixture(scope="module")
def encoder_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A plugin folder with the doubling encoder, and a checkpoint of it on DigitsRecon."""
    site = write_distribution(
        tmp_path_factory.mktemp("site"),
        "arena-doubler",
        "1.0",
        {"arena_doubler": ENCODER_MODULE},
        "[arena.agents]\ndoubler = arena_doubler:Doubler\n",
    )
    run = tmp_path_factory.mktemp("runs") / "doubler"
    done = run_arena(
        "train", "doubler", "arena/DigitsRecon-v0", "--steps", "3", "--out", str(run),
        pythonpath=site,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return site, run


def test_encode_writes_the_agents_codes(encoder_run: tuple[Path, Path], tmp_path: Path):
    site, run = encoder_run
    inputs = np.random.default_rng(0).random((25, 64))
    np.savez(tmp_path / "inputs.npz", X=inputs, y=np.arange(25))
    out = tmp_path / "codes.npy"
    done = run_arena(
        "encode", "--checkpoint", str(run), "--input", str(tmp_path / "inputs.npz"),
        "--out", str(out), pythonpath=site,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"Wrote 25 codes of size (2,) from doubler to {out}.\n"
    np.testing.assert_allclose(np.load(out), 2 * inputs[:, :2].astype(np.float32))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: np.save(d / "x.npy", np.zeros((3, 10))), r"shape \(3, 10\).*\(n, 64\)"),
        (lambda d: np.save(d / "x.npy", np.full((2, 64), np.nan)), "input 0 holds a non-finite"),
        (lambda d: (d / "x.npy").write_bytes(b"not numpy"), "not a readable .npy file"),
    ],
)
def test_encode_refuses_bad_inputs_with_exit_2(encoder_run, tmp_path, make, message):
    site, run = encoder_run
    make(tmp_path)
    out = tmp_path / "codes.npy"
    done = run_arena(
        "encode", "--checkpoint", str(run), "--input", str(tmp_path / "x.npy"), "--out", str(out),
        pythonpath=site,
    )  # fmt: skip
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert re.search(message, done.stderr), done.stderr
    assert not out.exists()


def test_encode_refuses_an_agent_without_the_capability(tmp_path: Path):
    run = tmp_path / "random"
    trained = run_arena(
        "train", "random", "arena/DigitsRecon-v0", "--steps", "2", "--out", str(run)
    )  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    np.save(tmp_path / "x.npy", np.zeros((2, 64)))
    done = run_arena(
        "encode", "--checkpoint", str(run), "--input", str(tmp_path / "x.npy"),
        "--out", str(tmp_path / "codes.npy"),
    )  # fmt: skip
    assert done.returncode == 2
    assert "random agents cannot encode inputs" in done.stderr
    assert "arena.capabilities.Encoder" in done.stderr


def test_read_array_takes_npy_and_npz(tmp_path: Path):
    np.save(tmp_path / "a.npy", np.arange(6).reshape(2, 3))
    np.savez(tmp_path / "one.npz", codes=np.ones((2, 2)))
    np.savez(tmp_path / "named.npz", X=np.zeros(4), y=np.ones(4))
    assert read_array(tmp_path / "a.npy").shape == (2, 3)
    assert read_array(tmp_path / "one.npz").shape == (2, 2)
    assert read_array(tmp_path / "named.npz").tolist() == [0, 0, 0, 0]


def test_read_array_unpickles_nothing(tmp_path: Path):
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ArenaError, match="holds object values; give numbers"):
        read_array(tmp_path / "objects.npy")
    np.save(tmp_path / "text.npy", np.array(["a", "b"]))
    with pytest.raises(ArenaError, match="give numbers"):
        read_array(tmp_path / "text.npy")


@pytest.mark.parametrize(
    ("name", "setup", "message"),
    [
        ("x.csv", lambda p: p.write_text("1,2"), "must name a .npy or .npz file"),
        ("missing.npy", lambda p: None, "does not exist"),
        ("dir.npy", lambda p: p.mkdir(), "is not a regular file"),
        ("two.npz", lambda p: np.savez(p, a=np.ones(2), b=np.ones(2)), "holds 2 arrays"),
        ("bad.npz", lambda p: p.write_bytes(b"PK junk"), "not a readable .npz file"),
    ],
)
def test_read_array_refusals(tmp_path: Path, name: str, setup, message: str):
    setup(tmp_path / name)
    with pytest.raises(ArenaError, match=message):
        read_array(tmp_path / name)


def test_read_array_weighs_the_header_before_the_data(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("ARENA_MEMORY_LIMIT", "1000")
    path = tmp_path / "big.npz"
    with zipfile.ZipFile(path, "w") as archive, archive.open("X.npy", "w") as f:
        header = {"descr": "<f8", "fortran_order": False, "shape": (10**6, 10**6)}
        np.lib.format.write_array_header_1_0(f, header)  # and no data at all
    with pytest.raises(ArenaError, match=r"\(1000000, 1000000\) array"):
        read_array(path)


def test_check_inputs_casts_to_float32():
    checked = _check_inputs(np.ones((2, 3), dtype=np.int64), (3,), "x.npy")
    assert checked.dtype == np.float32
    with pytest.raises(ArenaError, match="n >= 1"):
        _check_inputs(np.ones((0, 3)), (3,), "x.npy")


def test_capabilities_are_declared_not_guessed():
    class Guess:
        def sample(self, n, rng): ...

    class Declared(Encoder, Sampler):
        input_shape = (1,)

        def encode(self, batch): ...

        def sample(self, n, rng): ...

    assert capabilities(Guess) == []
    assert capabilities(Declared) == ["sample", "encode"]


def _patch_zip(path: Path, central: int, local: int, value: bytes) -> None:
    """Overwrites a field of every member's central and local headers (offsets from each
    header's signature)."""
    data = bytearray(path.read_bytes())
    for signature, offset in ((b"PK\x01\x02", central), (b"PK\x03\x04", local)):
        at = data.find(signature)
        while at != -1:
            data[at + offset : at + offset + len(value)] = value
            at = data.find(signature, at + 4)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("central", "local", "value"),
    [(10, 8, (97).to_bytes(2, "little")), (8, 6, (1).to_bytes(2, "little"))],
    ids=["unknown compression", "encrypted"],
)
def test_read_array_refuses_zips_it_cannot_open(tmp_path: Path, central, local, value):
    path = tmp_path / "odd.npz"
    np.savez(path, X=np.ones((2, 2)))
    _patch_zip(path, central, local, value)
    with pytest.raises(ArenaError, match=r"is not a readable \.npz file"):
        read_array(path)


def test_weigh_npz_refuses_a_declared_bomb_before_reading_it(tmp_path: Path, monkeypatch):
    from arena.arrays import weigh_npz
    from arena.errors import ResourceLimitError
    from envs.graphs.data import load_npz

    monkeypatch.setenv("ARENA_MEMORY_LIMIT", "1G")
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w") as archive:
        for name, shape in (("x", (10**9, 64)), ("edge_index", (2, 4)), ("y", (10,))):
            with archive.open(f"{name}.npy", "w") as f:
                header = {"descr": "<f4", "fortran_order": False, "shape": shape}
                np.lib.format.write_array_header_1_0(f, header)
    with pytest.raises(ResourceLimitError, match=r"bomb\.npz's arrays"):
        weigh_npz(path, str(path))
    with pytest.raises(ResourceLimitError, match="graph file"):
        load_npz(str(path), np.random.default_rng(0))
    np.savez(tmp_path / "small.npz", X=np.ones((3, 2)))
    weigh_npz(tmp_path / "small.npz", "small")  # within the limit: no error
