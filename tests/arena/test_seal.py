"""Seals: arena reads pickled state (Ray Tune's, to resume a sweep) only from folders it sealed."""

from __future__ import annotations

import pytest

from arena.errors import ArenaError
from arena.seal import is_sealed, key_file, seal
from arena.sweep import SEAL_FILE, TUNE_DIR, _check_seal, _write_seal


@pytest.fixture(autouse=True)
def _own_key(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def _folder(tmp_path):
    folder = tmp_path / "tune"
    (folder / "trial").mkdir(parents=True)
    (folder / "experiment_state.pkl").write_bytes(b"\x80\x04state")
    (folder / "trial" / "result.json").write_text("{}")
    return folder


def test_a_sealed_folder_matches_until_it_changes(tmp_path):
    folder = _folder(tmp_path)
    (tmp_path / "seal").write_text(seal(folder))
    assert is_sealed(folder, tmp_path / "seal")
    assert key_file().stat().st_mode & 0o777 == 0o600
    (folder / "trial" / "result.json").write_text('{"x": 1}')
    assert not is_sealed(folder, tmp_path / "seal")


def test_a_missing_seal_or_a_link_inside_does_not_match(tmp_path):
    folder = _folder(tmp_path)
    assert not is_sealed(folder, tmp_path / "absent")
    (tmp_path / "seal").write_text(seal(folder))
    (folder / "link").symlink_to(tmp_path / "elsewhere")
    assert not is_sealed(folder, tmp_path / "seal")


def test_another_users_key_does_not_match(tmp_path, monkeypatch):
    folder = _folder(tmp_path)
    (tmp_path / "seal").write_text(seal(folder))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "other"))
    assert not is_sealed(folder, tmp_path / "seal")


def test_a_sweep_resumes_only_tune_state_it_sealed(tmp_path):
    out = tmp_path / "sweep"
    out.mkdir()
    (out / TUNE_DIR).mkdir()
    (out / TUNE_DIR / "experiment_state.pkl").write_bytes(b"\x80\x04crafted")
    with pytest.raises(ArenaError, match="was not written by your arena sweep"):
        _check_seal(out)
    _write_seal(out)
    assert (out / SEAL_FILE).is_file()
    _check_seal(out)
    (out / TUNE_DIR / "experiment_state.pkl").write_bytes(b"\x80\x04changed")
    with pytest.raises(ArenaError, match="pickled, and reading it runs code"):
        _check_seal(out)
