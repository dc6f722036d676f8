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
import importlib.util
import os
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import ModuleType
from typing import Any

from arena.errors import ArenaError, TrainingError

INSTALL_HINT = 'pip install "gym-arena[ray]"'
"""How to get Ray and Optuna, as the messages say it."""

WORKER_ENV = {
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMBA_NUM_THREADS": "1",
}
"""Environment variables of every worker: one BLAS thread and one numba thread per task, each
task being given one CPU (oversubscribed BLAS threads were measured 10-150x slower on a busy
2-core machine)."""

AUTH_HINT = (
    "A head that `ray start` started where ~/.ray/auth_token exists requires Ray's token "
    "authentication (Ray 2.60 does so): join it with RAY_AUTH_MODE=token set, and its token "
    "in ~/.ray/auth_token or RAY_AUTH_TOKEN."
)
"""What to check when joining a cluster fails."""
TASK_RETRIES = 3
"""How often Ray runs a task again whose worker died (killed, out of memory) before the command
gives up; an error the task raises itself is not retried."""

_ADDRESS = re.compile(r"^(?:ray://)?[A-Za-z0-9._\-\[\]:]+:\d{1,5}$")


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity mask where the OS has one, as under
    ``taskset`` or a container's cpuset), which a local Ray instance is sized to."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


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
        raise ArenaError(_not_installed(command)) from None


def check_ray_installed(command: str) -> None:
    """Refuses as :func:`require_ray` does when Ray is missing, but imports nothing.

    Raises:
        ArenaError: Ray is not installed.
    """
    if not ray_installed():
        raise ArenaError(_not_installed(command))


def _not_installed(command: str) -> str:
    return f"{command} runs on Ray, which is not installed. Install the extra: {INSTALL_HINT}"


def ray_installed() -> bool:
    """Whether Ray can be imported, found without importing it."""
    return importlib.util.find_spec("ray") is not None


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
    When this process has already initialised Ray (a script's own ``ray.init()``), that session
    is used as it is, and left running.

    Args:
        command: The command that needs Ray, for messages.
        address: ``HOST:PORT`` of a running head, or None for ``RAY_ADDRESS`` or a local one.

    Yields:
        The ``ray`` module, initialised.

    Raises:
        ArenaError: Ray is missing, the address is malformed, or no head answers there.
    """
    ray = require_ray(command)
    if ray.is_initialized():  # the caller's own session (a script's, a test's): use it, leave it
        yield ray
        return
    address = address or os.environ.get("RAY_ADDRESS") or None
    options: dict = {
        "runtime_env": {"env_vars": dict(WORKER_ENV)},
        "logging_level": "ERROR",
        "log_to_driver": False,
    }
    if address is None:
        # "local" starts a new instance: Ray's default (None) would join the last cluster that
        # `ray start` left running on this machine, someone else's perhaps.
        options.update(address="local", num_cpus=usable_cpus(), include_dashboard=False)
    else:
        options["address"] = check_address(address)
    try:
        ray.init(**options)
    except (ConnectionError, TimeoutError, ValueError, RuntimeError) as error:
        where = f"at {address}" if address else "on this machine"
        hint = f" {AUTH_HINT}" if address else ""
        reason = str(error).rstrip(". ")
        raise ArenaError(
            f"{command} could not start or join Ray {where}: {reason}.{hint}"
        ) from None
    try:
        yield ray
    finally:
        ray.shutdown()


def run_tasks(ray: ModuleType, function: Callable[..., Any], jobs: Sequence[Any]) -> Iterator[Any]:
    """Runs ``function(job)`` for every job as a Ray task of one CPU; yields the results as the
    tasks finish, in that order, not the jobs'.

    A task whose worker dies is run again, up to :data:`TASK_RETRIES` times. When the caller
    stops early (an error, Ctrl-C), the tasks still running are cancelled.

    Args:
        ray: The initialised ``ray`` module, from :func:`ray_session`.
        function: A module-level function, so that workers import it rather than unpickle it.
        jobs: Its arguments, one task each; small and picklable.

    Raises:
        TrainingError: A task failed on every try (its worker died each time), or raised.
    """
    task = ray.remote(num_cpus=1, max_retries=TASK_RETRIES)(function)
    pending = [task.remote(job) for job in jobs]
    try:
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            try:
                result = ray.get(done[0])
            except ray.exceptions.RayError as error:
                raise TrainingError(f"a Ray task failed: {error}") from None
            yield result
    finally:
        for ref in pending:
            ray.cancel(ref, force=True)
