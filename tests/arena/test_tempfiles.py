"""An interrupt at any moment of a write leaves no temporary file behind."""

import os
import signal
import tempfile

import pytest

from arena.checkpoint import atomic_write
from arena.tempfiles import temporary_beside


def _interrupting_mkstemp(monkeypatch, signum):
    real = tempfile.mkstemp

    def mkstemp(*args, **kwargs):
        made = real(*args, **kwargs)
        os.kill(os.getpid(), signum)  # The file exists; its name is not yet returned.
        sum(range(1000))  # Bytecode on which Python would run a handler that is not held.
        return made

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupt_inside_mkstemp_leaves_no_temporary(tmp_path, monkeypatch, signum):
    def terminate(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        _interrupting_mkstemp(monkeypatch, signum)
        with pytest.raises(KeyboardInterrupt):
            atomic_write(tmp_path / "manifest.json", b"{}")
        assert signal.getsignal(signal.SIGTERM) is terminate
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert os.listdir(tmp_path) == []


def test_an_interrupt_in_the_body_removes_the_temporary(tmp_path):
    with pytest.raises(KeyboardInterrupt), temporary_beside(tmp_path / "log.csv") as temporary:
        temporary.write_bytes(b"half")
        raise KeyboardInterrupt
    assert os.listdir(tmp_path) == []


def test_a_renamed_temporary_is_the_target(tmp_path):
    target = tmp_path / "recording.gif"
    with temporary_beside(target, suffix=".gif", mode=0o600) as temporary:
        assert temporary.name.startswith(".recording.gif.") and temporary.suffix == ".gif"
        temporary.write_bytes(b"GIF")
        os.replace(temporary, target)
    assert os.listdir(tmp_path) == ["recording.gif"]
    assert target.stat().st_mode & 0o777 == 0o600
