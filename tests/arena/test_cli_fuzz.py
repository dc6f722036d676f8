"""A bounded fuzzer of the ``arena`` command line: mutated argument lists of cheap commands.

Whatever the tokens, the command ends with status 0, 1 or 2 (argparse's own usage errors are
2) and never with a traceback. It runs in-process through :func:`arena.cli.main`, each example
in a fresh folder holding a file, a folder and a finished run to point at.
"""

from __future__ import annotations

import contextlib
import io
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arena.cli import main

TEMPLATES = [
    ["list"],
    ["list", "--json"],
    ["info", "q-learning", "--json"],
    ["evaluate", "random", "arena/Chain-v0", "--episodes", "2", "--seed", "1"],
    ["evaluate", "random", "FrozenLake-v1", "--episodes", "2", "--max-episode-steps", "20"],
    ["evaluate", "--checkpoint", "{done}", "--episodes", "2", "--json"],
    ["train", "random", "arena/Chain-v0", "--steps", "50", "--out", "{tmp}/run", "--quiet"],
    ["train", "q-learning", "FrozenLake-v1", "--steps", "60", "--save-every", "20", "--out", "run"],
    ["train", "--resume", "{done}", "--steps", "20", "--out", "{tmp}/more", "--json"],
    ["plot", "{done}", "--out", "{tmp}/curves.png", "--window", "5"],
    ["sample", "--checkpoint", "{done}", "--out", "{tmp}/s.npy", "--n", "3"],
]

HOSTILE = [
    "-1", "-3", "0", "1e20", "1e400", "nan", "inf", "-inf", "1.5", "9" * 40, "", " ", "-", "--",
    "=", "key=value", "map_name=9x9", "\udcff\udcfe", "é", "--json", "--out", "--steps",
    "--episodes", "--env-kwargs", "--set", "--config", "random", "FrozenLake-v1", "arena/Chain-v0",
    "{tmp}/file.txt", "{tmp}/dir", "{tmp}/missing/x", "{tmp}", "{done}", "{done}/manifest.json",
]  # fmt: skip

MUTATION = st.tuples(
    st.sampled_from(["replace", "replace", "replace", "drop", "duplicate", "insert"]),
    st.integers(min_value=0, max_value=20),
    st.sampled_from(HOSTILE),
)


def _mutate(argv: list[str], mutations: list[tuple[str, int, str]]) -> list[str]:
    argv = list(argv)
    for kind, index, value in mutations:
        i = index % (len(argv) + (kind == "insert")) if argv or kind == "insert" else 0
        if kind == "insert":
            argv.insert(i, value)
        elif not argv:
            continue
        elif kind == "drop":
            del argv[i]
        elif kind == "duplicate":
            argv.insert(i, argv[i])
        else:
            argv[i] = value
    return argv


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("fuzz") / "done"
    assert main(["train", "random", "arena/Chain-v0", "--steps", "200", "--out", str(run),
                 "--quiet"]) == 0  # fmt: skip
    return run


@settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    template=st.sampled_from(TEMPLATES),
    mutations=st.lists(MUTATION, min_size=1, max_size=2),
)
def test_mutated_arguments_end_in_0_1_or_2_without_a_traceback(finished_run, template, mutations):
    with tempfile.TemporaryDirectory() as folder, contextlib.chdir(folder):
        tmp = Path(folder)
        (tmp / "file.txt").write_text("a user's file\n")
        (tmp / "dir").mkdir()
        done = shutil.copytree(finished_run, tmp / "done")
        argv = [
            token.replace("{tmp}", folder).replace("{done}", str(done))
            for token in _mutate(template, mutations)
        ]
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                status = main(argv)
            except SystemExit as e:  # argparse: --help, --version, usage errors.
                status = e.code
        assert status in (0, 1, 2), (argv, err.getvalue())
        assert "Traceback" not in err.getvalue(), (argv, err.getvalue())
        assert (tmp / "file.txt").read_text() == "a user's file\n", argv
