"""Ray, the engine that spreads runs over processes and machines: joining it and leaving it.

Ray is an extra (``pip install "gym-arena[ray]"``): only the commands that fan out
(``arena compare``, ``arena sweep``, ``arena train --seeds``) import it, through
:func:`require_ray`, and ``arena list``, ``train`` and ``evaluate`` of one run never do.

With no address, :func:`ray_session` starts a local Ray instance sized to the machine and stops
it afterwards. With ``--address HOST:PORT`` (or ``RAY_ADDRESS``) it joins a cluster started with
``ray start --head`` and leaves it running. Every worker runs its BLAS libraries with one thread
per CPU it was given (:data:`WORKER_ENV`); torch's threads are the core's torch runtime's
business (:mod:`arena.runtime`), set around ``learn`` as in one process.
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

from arena.errors import ArenaError

INSTALL_HINT = 'pip install "gym-arena[ray]"'
"""How to get Ray and Optuna, as the messages say it."""

WORKER_ENV = {
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}
"""Environment variables of every worker: one BLAS thread per task (oversubscribed BLAS threads
were measured 10-150x slower on a busy 2-core machine)."""

_ADDRESS = re.compile(r"^(?:ray://)?[A-Za-z0-9._\-\[\]:]+:\d{1,5}$")


def require_ray(command: str) -> ModuleType:
    """Imports Ray, or says how to install it.

    Args:
        command: The command that needs Ray, for the message (``"arena compare"``).

    Raises:
        ArenaError: Ray is not installed.
    """
    try:
        return importlib.import_module("ray")
    except ImportError:
        raise ArenaError(
            f"{command} runs on Ray, which is not installed. Install the extra: {INSTALL_HINT}"
        ) from None


def check_address(address: str) -> str:
    """Returns ``address`` if it reads as ``HOST:PORT`` (or ``ray://HOST:PORT``), else raises.

    Raises:
        ArenaError: The address is malformed or its port is out of range.
    """
    text = address.strip()
    if not _ADDRESS.match(text) or not 0 < int(text.rsplit(":", 1)[1]) < 65536:
        raise ArenaError(
            f"--address must be HOST:PORT of a Ray head (as `ray start --head` prints it), "
            f"got {address!r}."
        )
    return text


@contextmanager
def ray_session(command: str, address: str | None = None) -> Iterator[ModuleType]:
    """Joins the Ray cluster at ``address`` (or ``RAY_ADDRESS``), or starts a local instance.

    A local instance gets every CPU of the machine and is shut down when the block ends; a
    cluster is only left, never stopped. Ray's own start-up messages are kept off the terminal.

    Args:
        command: The command that needs Ray, for messages.
        address: ``HOST:PORT`` of a running head, or None for ``RAY_ADDRESS`` or a local one.

    Yields:
        The ``ray`` module, initialised.

    Raises:
        ArenaError: Ray is missing, the address is malformed, or no head answers there.
    """
    ray = require_ray(command)
    address = address or os.environ.get("RAY_ADDRESS") or None
    options: dict = {
        "runtime_env": {"env_vars": dict(WORKER_ENV)},
        "logging_level": "ERROR",
        "log_to_driver": False,
    }
    if address is None:
        options.update(num_cpus=os.cpu_count() or 1, include_dashboard=False)
    else:
        options["address"] = check_address(address)
    try:
        ray.init(**options)
    except (ConnectionError, TimeoutError, ValueError, RuntimeError) as error:
        where = f"at {address}" if address else "on this machine"
        raise ArenaError(f"{command} could not start or join Ray {where}: {error}") from None
    try:
        yield ray
    finally:
        ray.shutdown()
