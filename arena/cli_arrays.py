"""The commands that write an agent's arrays to a ``.npy`` file: ``sample`` and ``encode``.

Each needs the capability the agent declares (:mod:`arena.capabilities`), works in chunks so
that a network's activations stay small, and writes its file atomically. ``sample --labels`` and
``--code`` need a :class:`~arena.capabilities.ConditionalSampler`.
"""

from __future__ import annotations

import argparse
import io
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from arena.cli_common import (
    MAX_SAMPLES,
    MAX_SEED,
    add_allow_other_distribution_option,
    add_threads_option,
    print_json,
    whole_number,
)
from arena.errors import ArenaError

CHUNK = 10_000
"""The commands ask the agent for this many samples or codes at a time."""
MAX_LABEL = 2**31 - 1
"""The largest number ``--labels`` reads; an agent refuses the labels it has no class for."""


def add_commands(sub: Any) -> None:
    """Adds ``sample`` and ``encode`` to the ``arena`` parser's subcommands."""
    p = sub.add_parser("sample", help="write a generative agent's samples to a .npy file")
    p.add_argument("--checkpoint", metavar="DIR", required=True, help="a saved generative agent")
    add_allow_other_distribution_option(p)
    p.add_argument(
        "--n", type=whole_number("--n", 1, MAX_SAMPLES), default=2500, help="how many samples"
    )
    p.add_argument(
        "--seed", type=whole_number("--seed", 0, MAX_SEED), default=0, help="seeds the latent noise"
    )
    p.add_argument(
        "--labels",
        type=label_list,
        metavar="L1,L2,...",
        help="the class of each sample, the list repeated to --n (its length must divide --n); "
        "for a conditional agent",
    )
    p.add_argument(
        "--code",
        type=code_values,
        action="append",
        metavar="NAME=VALUE",
        help="fix a latent code for every sample, such as c=3 (repeatable); for an agent with "
        "named codes",
    )
    _add_output_options(p)
    p.set_defaults(func=cmd_sample)

    p = sub.add_parser("encode", help="write an encoder's codes of the inputs in a file to .npy")
    p.add_argument("--checkpoint", metavar="DIR", required=True, help="a saved encoder agent")
    add_allow_other_distribution_option(p)
    p.add_argument(
        "--input",
        required=True,
        metavar="FILE",
        help="a .npy file, or a .npz file with one array or an array X: (n, *input shape)",
    )
    _add_output_options(p)
    p.set_defaults(func=cmd_encode)


def _add_output_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, metavar="FILE.npy", help="the .npy file to write")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    add_threads_option(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")


def cmd_sample(args: argparse.Namespace) -> int:
    import numpy as np

    from arena.capabilities import Sampler

    out, agent = _start(args, Sampler, "generate samples", "`arena sample` needs a generative")
    rng = np.random.default_rng(args.seed)
    conditions = _conditions(args, agent)
    if conditions:

        def make(n: int, at: int) -> Any:
            return agent.sample(n, rng, _chunk_of(conditions, at, n))

    else:

        def make(n: int, at: int) -> Any:
            return agent.sample(n, rng)

    samples = _in_chunks(agent, make, args.n, "--n {n} samples")
    _write(out, samples)
    if args.json:
        print_json({"out": str(out), "shape": list(samples.shape), "dtype": str(samples.dtype)})
    else:
        shape = samples.shape[1:]
        print(f"Wrote {len(samples)} samples of shape {shape} from {agent.name} to {out}.")
    return 0


def cmd_encode(args: argparse.Namespace) -> int:
    from arena.arrays import read_array
    from arena.capabilities import Encoder

    out, agent = _start(args, Encoder, "encode inputs", "`arena encode` needs an encoder")
    inputs = _check_inputs(read_array(Path(args.input)), tuple(agent.input_shape), args.input)
    codes = _in_chunks(agent, lambda n, at: agent.encode(inputs[at : at + n]), len(inputs))
    _write(out, codes)
    if args.json:
        print_json({"out": str(out), "shape": list(codes.shape), "dtype": str(codes.dtype)})
    else:
        print(f"Wrote {len(codes)} codes of size {codes.shape[1:]} from {agent.name} to {out}.")
    return 0


def label_list(text: str) -> list[int]:
    """An argparse ``type`` for ``--labels``: comma-separated whole numbers from 0."""
    labels = []
    for part in text.split(","):
        if not re.fullmatch(r"\s*\d{1,10}\s*", part) or int(part) > MAX_LABEL:
            raise ArenaError(
                f"--labels takes class numbers separated by commas, such as 0,1,2; {part!r} in "
                f"{text!r} is not a whole number from 0 to {MAX_LABEL}."
            )
        labels.append(int(part))
    return labels


def code_values(text: str) -> dict[str, float]:
    """An argparse ``type`` for ``--code``: ``NAME=VALUE`` pairs, comma-separated."""
    codes: dict[str, float] = {}
    for part in text.split(","):
        name, equals, value = part.partition("=")
        name = name.strip()
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not equals or not re.fullmatch(r"[A-Za-z_]\w{0,31}", name) or not math.isfinite(number):
            raise ArenaError(
                f"--code takes NAME=VALUE with a finite number, such as c=3; got {part!r}."
            )
        if name in codes:
            raise ArenaError(f"--code gives {name!r} twice in {text!r}.")
        codes[name] = number
    return codes


def _conditions(args: argparse.Namespace, agent: Any) -> dict[str, Any]:
    """``--labels`` and ``--code`` as a ConditionalSampler's conditions, checked by the agent."""
    import numpy as np

    from arena.capabilities import ConditionalSampler
    from arena.limits import check_memory

    conditions: dict[str, Any] = {}
    if args.labels is not None:
        if args.n % len(args.labels):
            raise ArenaError(
                f"--labels gives {len(args.labels)} labels; their number must divide --n "
                f"({args.n}), as the list is repeated to --n samples."
            )
        check_memory(f"--labels repeated to {args.n} samples", args.n * 8)
        conditions["labels"] = np.tile(
            np.asarray(args.labels, np.int64), args.n // len(args.labels)
        )
    if args.code is not None:
        codes: dict[str, float] = {}
        for given in args.code:
            twice = sorted(set(codes) & set(given))
            if twice:
                raise ArenaError(f"--code gives {twice[0]!r} twice.")
            codes.update(given)
        conditions["code"] = codes
    if not conditions:
        return conditions
    flags = " and ".join(f"--{key}" for key in conditions)
    if not isinstance(agent, ConditionalSampler):
        raise ArenaError(
            f"{agent.name} agents take no conditions, so not {flags}: those need a conditional "
            "agent, one that declares arena.capabilities.ConditionalSampler."
        )
    for key in conditions:
        if key not in agent.conditions:
            takes = "; ".join(f"--{k}: {what}" for k, what in agent.conditions.items())
            raise ArenaError(f"{agent.name} agents do not take --{key}. They take {takes}.")
    try:
        agent.check_conditions(args.n, conditions)
    except ValueError as e:
        raise ArenaError(f"{agent.name} cannot sample {flags} as given: {e}") from None
    return conditions


def _chunk_of(conditions: dict[str, Any], at: int, n: int) -> dict[str, Any]:
    """The conditions of samples ``at`` to ``at + n``: their labels, and the same code."""
    chunk = dict(conditions)
    if "labels" in chunk:
        chunk["labels"] = chunk["labels"][at : at + n]
    return chunk


def _start(args: argparse.Namespace, capability: type, does: str, needs: str) -> tuple[Path, Any]:
    """Checks ``--out``, loads the checkpoint and checks the agent declares ``capability``."""
    from arena import load
    from arena.rundir import check_file_target

    out = check_file_target(Path(args.out), ".npy", args.overwrite)
    agent = load(
        args.checkpoint, device=args.device, allow_other_distribution=args.allow_other_distribution
    )
    if not isinstance(agent, capability):
        raise ArenaError(
            f"{agent.name} agents cannot {does}: {needs} agent, one that declares "
            f"arena.capabilities.{capability.__name__}."
        )
    agent.threads = args.threads
    return out, agent


def _check_inputs(inputs: Any, shape: tuple[int, ...], name: str) -> Any:
    """The inputs as finite float32 of shape ``(n, *shape)``; a clear refusal otherwise."""
    import numpy as np

    if inputs.ndim != len(shape) + 1 or inputs.shape[1:] != shape or len(inputs) == 0:
        raise ArenaError(
            f"--input {name!r} holds an array of shape {inputs.shape}; this agent encodes "
            f"inputs of shape {shape}, so give (n, {', '.join(map(str, shape))}) with n >= 1."
        )
    inputs = inputs.astype(np.float32, copy=False)
    bad = ~np.isfinite(inputs)
    if bad.any():
        row = int(np.argwhere(bad)[0][0])
        raise ArenaError(
            f"--input {name!r}: input {row} holds a non-finite value (NaN or infinity); "
            "every value must be a finite number."
        )
    return inputs


def _in_chunks(agent: Any, make: Callable[[int, int], Any], n: int, what: str = "{n} codes") -> Any:
    """``n`` rows, made ``CHUNK`` at a time by ``make(count, start)`` with the agent's torch
    threads; the memory the whole array (and its copy in the ``.npy`` being written) needs is
    checked after the first chunk."""
    import numpy as np

    from arena.limits import check_memory
    from arena.runtime import torch_threads

    chunks = []
    with torch_threads(agent.threads, import_torch=agent.uses_torch):
        for start in range(0, n, CHUNK):
            chunks.append(np.asarray(make(min(n - start, CHUNK), start)))
            if start == 0:
                per_row = chunks[0].nbytes / max(len(chunks[0]), 1)
                check_memory(f"{what.format(n=n)} of {per_row:.0f} bytes", 2 * n * per_row)
    return chunks[0] if len(chunks) == 1 else np.concatenate(chunks)


def _write(out: Path, array: Any) -> None:
    import numpy as np

    from arena.checkpoint import atomic_write

    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    try:
        atomic_write(out, buffer.getvalue())
    except OSError as e:
        raise ArenaError(f"Cannot write --out {str(out)!r}: {e.strerror or e}.") from None
