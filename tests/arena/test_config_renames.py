"""Renamed config fields: refused with the new name on input, mapped in old checkpoints."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar

import pytest
from gymnasium import spaces

from arena.agent import Agent
from arena.checkpoint import load_checkpoint, save_checkpoint
from arena.config import build_config, renamed_fields, upgrade_config
from arena.config_blocks import ConfigBase, NetworkConfig
from arena.errors import CheckpointError, ConfigError
from arena.manifest import FORMAT_VERSION, MANIFEST
from arena.ranges import Above


@dataclass(frozen=True, kw_only=True)
class ToyConfig(NetworkConfig):
    """A config whose fields had other names in earlier releases."""

    renamed: ClassVar[dict[str, str]] = {
        "hidden": "hidden_sizes",
        "grad_clip": "clip",
        "clip_norm": "grad_clip",
    }
    clip: Annotated[float, Above(0)] = 1.0
    rate: Annotated[float, Above(0)] = 0.5
    """Given as a percentage before."""

    @classmethod
    def upgrade(cls, values: dict[str, Any]) -> dict[str, Any]:
        percent = values.pop("rate_percent", None)
        if isinstance(percent, (int, float)) and not isinstance(percent, bool):
            values["rate"] = percent / 100
        return values


class Toy(Agent):
    """Acts 0 and learns nothing: only its config matters here."""

    name = "toy-renamed"
    Config = ToyConfig

    def act(self, observation: Any, explore: bool = False) -> int:
        return 0

    def _learn(self, env: Any, steps: int, callback: Any) -> None:
        callback.on_step(self.num_timesteps)


def test_chains_of_renames_map_to_the_newest_name():
    assert renamed_fields(ToyConfig) == {
        "hidden": "hidden_sizes",
        "grad_clip": "clip",
        "clip_norm": "clip",
    }


@pytest.mark.parametrize(("old", "new"), [("hidden", "hidden_sizes"), ("clip_norm", "clip")])
def test_an_old_name_on_input_is_refused_with_its_new_name(old, new):
    with pytest.raises(ConfigError) as info:
        build_config(ToyConfig, {old: "3"}, source="toy config")
    assert str(info.value) == f"toy config key {old!r} was renamed to {new!r}."


def test_a_subclass_adds_to_its_bases_renames():
    @dataclass(frozen=True, kw_only=True)
    class Child(ToyConfig):
        renamed: ClassVar[dict[str, str]] = {"width": "hidden_sizes"}

    assert renamed_fields(Child)["hidden"] == "hidden_sizes"
    assert renamed_fields(Child)["width"] == "hidden_sizes"


def test_upgrade_config_maps_old_names_and_runs_the_class_upgrade():
    values = upgrade_config(
        ToyConfig, {"hidden": [8], "clip_norm": 2.0, "rate_percent": 25}, "checkpoint config"
    )
    assert values == {"hidden_sizes": [8], "clip": 2.0, "rate": 0.25}
    assert build_config(ToyConfig, values) == ToyConfig(hidden_sizes=(8,), clip=2.0, rate=0.25)


def test_both_names_at_once_is_refused():
    with pytest.raises(ConfigError, match="holds both 'hidden' and 'hidden_sizes'"):
        upgrade_config(ToyConfig, {"hidden": [8], "hidden_sizes": [8]}, "checkpoint config")


def test_a_plain_config_without_renames_is_unchanged():
    @dataclass(frozen=True)
    class Plain:
        x: int = 1

    assert renamed_fields(Plain) == {}
    assert upgrade_config(Plain, {"x": 2}, "here") == {"x": 2}
    assert renamed_fields(ConfigBase) == {}


def _saved_with_old_names(tmp_path, version: int) -> Any:
    agent = Toy(spaces.Discrete(2), spaces.Discrete(2), config=ToyConfig(hidden_sizes=(3, 5)))
    path = save_checkpoint(agent, tmp_path / "ckpt")
    manifest = json.loads((path / MANIFEST).read_text())
    config = manifest["config"]
    config["hidden"] = config.pop("hidden_sizes")
    config["grad_clip"] = config.pop("clip")
    config["rate_percent"] = config.pop("rate") * 100
    manifest["format_version"] = version
    (path / MANIFEST).write_text(json.dumps(manifest))
    return path


@pytest.mark.parametrize("version", [2, FORMAT_VERSION])
def test_a_checkpoint_with_old_names_loads_with_the_new_ones(tmp_path, version):
    path = _saved_with_old_names(tmp_path, version)
    agent = load_checkpoint(path, agent_class=Toy)
    assert agent.config == ToyConfig(hidden_sizes=(3, 5), clip=1.0, rate=0.5)
    agent.save(tmp_path / "again")
    manifest = json.loads((tmp_path / "again" / MANIFEST).read_text())
    assert manifest["format_version"] == FORMAT_VERSION == 3
    assert manifest["config"] == {"hidden_sizes": [3, 5], "clip": 1.0, "rate": 0.5}


def test_a_checkpoint_with_both_names_is_a_checkpoint_error(tmp_path):
    path = _saved_with_old_names(tmp_path, 2)
    manifest = json.loads((path / MANIFEST).read_text())
    manifest["config"]["hidden_sizes"] = [4]
    (path / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(CheckpointError, match=r"bad config: .*both 'hidden' and 'hidden_sizes'"):
        load_checkpoint(path, agent_class=Toy)


def test_a_checkpoint_out_of_range_is_a_checkpoint_error(tmp_path):
    path = _saved_with_old_names(tmp_path, 2)
    manifest = json.loads((path / MANIFEST).read_text())
    manifest["config"]["hidden"] = [0]
    (path / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(CheckpointError, match=r"hidden_sizes must list one or more values >= 1"):
        load_checkpoint(path, agent_class=Toy)
