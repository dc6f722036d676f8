"""``arena import-sb3`` on hostile zips: each is exit 2 naming the field, nothing is unpickled,
nothing is written to ``--out``. The zips are built here with zipfile; nothing is pickled."""

from __future__ import annotations

import contextlib
import io
import json
import struct
import zipfile

import pytest

from arena.cli import main

BOX = {
    ":type:": "<class 'gymnasium.spaces.box.Box'>",
    "dtype": "float32",
    "_shape": [4],
    "low": "[-4.8 -inf -0.41887903 -inf]",
    "high": "[4.8 inf 0.41887903 inf]",
}
DISCRETE = {":type:": "<class 'gymnasium.spaces.discrete.Discrete'>", "n": "2", "start": "0"}
DATA = {
    "policy_class": {
        ":type:": "<class 'abc.ABCMeta'>",
        "__module__": "stable_baselines3.common.policies",
    },
    "policy_kwargs": {"net_arch": [8]},
    "num_timesteps": 128,
    "seed": 0,
    "observation_space": BOX,
    "action_space": DISCRETE,
    "n_envs": 1,
    "n_steps": 64,
    "batch_size": 32,
    "n_epochs": 1,
}


def _zip(path, data, members=None):
    """An SB3-shaped zip: ``data`` (JSON text, or bytes as they are) and junk ``.pth`` files."""
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("data", raw)
        for name, content in (members or {"policy.pth": b"not a torch file"}).items():
            z.writestr(name, content)
    return path


def _with(**changes):
    return {**DATA, **changes}


def _run(*argv):
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        status = main(list(argv))
    return status, err.getvalue()


def _declare_size(path, name, size):
    """Rewrites the central directory so that member ``name`` declares ``size`` bytes."""
    raw = bytearray(path.read_bytes())
    start = struct.unpack_from("<I", raw, raw.rindex(b"PK\x05\x06") + 16)[0]
    while True:
        name_len = struct.unpack_from("<H", raw, start + 28)[0]
        if raw[start + 46 : start + 46 + name_len] == name.encode():
            struct.pack_into("<I", raw, start + 24, size)
            break
        extra, comment = struct.unpack_from("<HH", raw, start + 30)
        start += 46 + name_len + extra + comment
    path.write_bytes(bytes(raw))


CASES = {
    "data a list": (_with(), "a JSON object, got a list"),
    "n_envs a string": (_with(n_envs="abc"), "'n_envs' must be a whole number"),
    "n_envs zero": (_with(n_envs=0), "'n_envs' must be from 1"),
    "num_timesteps negative": (_with(num_timesteps=-5), "'num_timesteps' must be from 0"),
    "seed a list": (_with(seed=[1]), "'seed' must be a whole number"),
    "policy_kwargs a list": (_with(policy_kwargs=[1, 2]), "'policy_kwargs' must be an object"),
    "net_arch strings": (_with(policy_kwargs={"net_arch": ["a"]}), "net_arch"),
    "net_arch huge": (_with(policy_kwargs={"net_arch": [10**7, 10**7]}), "net_arch"),
    "policy_class a string": (_with(policy_class="PPO"), "'policy_class' must be an object"),
    "space kind a number": (_with(observation_space={":type:": 3}), "by unpickling"),
    "Box shape a dict": (
        _with(observation_space={**BOX, "_shape": {"a": 1}}),
        "'observation_space'",
    ),
    "Box dtype a list": (_with(observation_space={**BOX, "dtype": ["f4"]}), "'observation_space'"),
    "Box dtype object": (_with(observation_space={**BOX, "dtype": "O"}), "'observation_space'"),
    "Box shape negative": (_with(observation_space={**BOX, "_shape": [-4]}), "'observation_space'"),
    "Box low a dict": (_with(observation_space={**BOX, "low": {"x": 1}}), "'observation_space'"),
    "Discrete n negative": (_with(action_space={**DISCRETE, "n": "-2"}), "'action_space'"),
    "Discrete n huge": (_with(action_space={**DISCRETE, "n": "1e18"}), "'action_space'"),
    "Discrete n a list": (_with(action_space={**DISCRETE, "n": [2]}), "'action_space'"),
    "pth not a tensor dict": (_with(), "policy.pth needs unpickling arbitrary objects or is not"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_hostile_data_field_is_refused_by_name(case, tmp_path):
    data, message = CASES[case]
    source = _zip(tmp_path / "model.zip", [data] if case == "data a list" else data)
    out = tmp_path / "out"
    status, stderr = _run("import-sb3", str(source), "--out", str(out))
    assert status == 2, stderr
    assert message in stderr and "Traceback" not in stderr
    assert not out.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"PK\x03\x04" + b"\0" * 40, "not a readable zip file"),
        (b"\xff" * 100, "not a readable zip file"),
    ],
)
def test_a_corrupt_zip_is_refused(content, message, tmp_path):
    source = tmp_path / "model.zip"
    source.write_bytes(content)
    status, stderr = _run("import-sb3", str(source), "--out", str(tmp_path / "out"))
    assert status == 2 and message in stderr
    assert not (tmp_path / "out").exists()


def test_a_damaged_member_is_refused(tmp_path):
    source = _zip(tmp_path / "model.zip", DATA)
    raw = bytearray(source.read_bytes())
    raw[40:60] = b"\xff" * 20  # Inside the compressed bytes of 'data'.
    source.write_bytes(bytes(raw))
    status, stderr = _run("import-sb3", str(source), "--out", str(tmp_path / "out"))
    assert status == 2 and "data" in stderr, stderr
    assert "Traceback" not in stderr and not (tmp_path / "out").exists()


def test_a_data_member_declaring_3_gb_is_refused_before_reading(tmp_path):
    source = _zip(tmp_path / "model.zip", DATA)
    _declare_size(source, "data", 3 * 2**30)
    status, stderr = _run("import-sb3", str(source), "--out", str(tmp_path / "out"))
    assert status == 2 and "data declares 3221225472 bytes" in stderr
    assert not (tmp_path / "out").exists()


def test_a_data_member_lying_about_its_size_is_read_with_a_bound(tmp_path):
    text = json.dumps({**DATA, "padding": " " * (80 << 20)}).encode()  # 80 MiB, deflates small.
    source = _zip(tmp_path / "model.zip", text)
    _declare_size(source, "data", 1000)
    status, stderr = _run("import-sb3", str(source), "--out", str(tmp_path / "out"))
    assert status == 2 and "data" in stderr and "Traceback" not in stderr
    assert not (tmp_path / "out").exists()


def test_an_honestly_large_data_member_is_refused(tmp_path):
    text = json.dumps({**DATA, "padding": " " * (65 << 20)}).encode()
    source = _zip(tmp_path / "model.zip", text)
    status, stderr = _run("import-sb3", str(source), "--out", str(tmp_path / "out"))
    assert status == 2 and "more than arena reads" in stderr


@pytest.mark.parametrize(
    ("loaded", "message"),
    [
        ([1, 2, 3], "policy.pth holds a list, not a dict of tensors"),
        ({"no_such_layer.weight": None}, "policy.pth does not fit PPO"),
    ],
)
def test_a_pth_that_is_not_the_model_state_is_refused(loaded, message, tmp_path, monkeypatch):
    import torch

    # What torch.load(weights_only=True) could return for a well-formed file of the wrong
    # content; no such file is written, since writing one would mean pickling.
    monkeypatch.setattr(torch, "load", lambda *args, **kwargs: loaded)
    source = _zip(tmp_path / "model.zip", DATA)
    status, stderr = _run("import-sb3", str(source), "--out", str(tmp_path / "out"))
    assert status == 2 and message in stderr and "Traceback" not in stderr
    assert not (tmp_path / "out").exists()


def test_data_nested_too_deeply_is_refused(tmp_path):
    source = _zip(tmp_path / "model.zip", b"[" * 100_000 + b"]" * 100_000)
    status, stderr = _run("import-sb3", str(source), "--out", str(tmp_path / "out"))
    assert status == 2 and "'data' nests too deeply" in stderr
