"""Search spaces of ``arena sweep``: the shipped ones check, bad ones are refused with the words of
``--set``, sampled points decode to config values, and best.toml reads back with ``--config``."""

from __future__ import annotations

import dataclasses

import pytest

from arena.config import load_config_file
from arena.errors import ConfigError
from arena.presets import find_preset, preset_table
from arena.registry import agent_class, agent_plugins
from arena.search_space import Param, check_space, decode, load_space
from arena.sweep import SweepPlan, _preset_point
from arena.sweep_report import best_row, best_toml, toml_value
from arena.sweep_trial import Reporter, fresh_folder, metric_value

FROZEN_BASE = dict(find_preset(agent_class("q-learning"), "FrozenLake-v1").config)


def test_every_agent_with_presets_ships_a_space_holding_the_preset_for_each_of_its_envs():
    checked = 0
    for name in sorted(agent_plugins()):
        cls = agent_class(name)
        for env_id in preset_table(cls):
            preset = find_preset(cls, env_id)
            assert preset.sweep, f"{name} ships no space for {env_id}"
            params = check_space(cls, preset.sweep, preset.config, preset.sweep_source)
            plan = dataclasses.replace(_plan(params), agent=name, env=env_id, base=preset.config)
            assert _preset_point(plan), f"{name} {env_id}: the preset is not a point of the space"
            checked += 1
    assert checked >= 80


def test_an_env_without_a_space_of_its_own_takes_the_default_tables():
    cls = agent_class("mlp")
    digits, unknown = find_preset(cls, "arena/Digits-v0"), find_preset(cls, "arena/Nowhere-v0")
    assert digits.sweep == unknown.sweep != {}
    assert digits.sweep_source == "mlp_presets.toml [default.sweep]"
    dqn = find_preset(agent_class("dqn"), "CartPole-v1")
    assert dqn.sweep_source == "dqn_presets.toml [CartPole-v1.sweep]"
    assert find_preset(agent_class("dqn"), "Pendulum-v1").sweep_source.endswith("[default.sweep]")


def test_an_env_table_with_an_empty_sweep_opts_out_of_the_default(monkeypatch):
    cls = agent_class("mlp")
    table = {"default": {"sweep": {"learning_rate": {"choices": [0.1]}}}, "X-v0": {"sweep": {}}}
    monkeypatch.setattr("arena.presets.preset_table", lambda agent_cls: table)
    assert find_preset(cls, "X-v0").sweep == {}
    assert find_preset(cls, "Y-v0").sweep == table["default"]["sweep"]


def _check(table: dict, base: dict | None = None) -> list[Param]:
    return check_space(agent_class("q-learning"), table, base or FROZEN_BASE, "space.toml")


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"learning_rat": {"low": 0.1, "high": 0.5}}, r"Unknown space.toml key 'learning_rat'"),
        ({"alpha": {"low": 0.1, "high": 0.5}}, r"'alpha' was renamed to 'learning_rate'"),
        ({"learning_rate": {"low": "a", "high": 0.5}}, r"learning_rate: low and high must be"),
        ({"horizon": {"low": 1.5, "high": 8}}, r"horizon: low and high must be ints"),
        ({"learning_rate": {"low": 0.5, "high": 0.1}}, r"low must be below high"),
        ({"learning_rate": {"low": 0.5, "high": 2.0}}, r"learning_rate must be in \(0, 1\], got"),
        ({"gamma": {"low": -0.5, "high": 0.9}}, r"gamma must be in \[0, 1\], got -0.5"),
        ({"exploration_final_eps": {"low": 0.0, "high": 0.5, "log": True}}, r"needs low > 0"),
        ({"learning_rate": {"low": 0.1, "high": 0.5, "log": "yes"}}, r"log must be true or"),
        ({"learning_rate": 0.3}, r"learning_rate must be a table"),
        ({"learning_rate": {"low": 0.1}}, r"must be \{ low = \.\.\., high"),
        ({"fast_path": {"low": 0, "high": 1}}, r"fast_path is a bool field: give it \{ choices"),
        ({"gamma": {"choices": [0.9, "x"]}}, r"the choice 'x' is not a valid float"),
        ({"gamma": {"choices": []}}, r"choices must be a non-empty list"),
        ({"gamma": {"choices": [0.9, 0.9]}}, r"repeat a value"),
        ({"gamma": {"choices": [0.9], "low": 0.1}}, r"choices stands alone"),
        ({"horizon": {"choices": [0, 100]}}, r"every_block updates a time-indexed table"),
        ({}, r"the space is empty"),
    ],
)
def test_a_bad_space_is_refused_with_a_clear_message(table, message):
    with pytest.raises(ConfigError, match=message):
        _check(table)


def test_a_bad_toml_file_is_refused(tmp_path):
    file = tmp_path / "space.toml"
    file.write_text("learning_rate = { low = 0.5, high = \n")
    with pytest.raises(ConfigError, match=r"is not valid TOML"):
        load_space(file)
    with pytest.raises(ConfigError, match=r"does not exist"):
        load_space(tmp_path / "missing.toml")


def test_a_space_file_may_keep_its_fields_under_a_sweep_table(tmp_path):
    file = tmp_path / "space.toml"
    file.write_text("[sweep]\ngamma = { low = 0.9, high = 0.99 }\n")
    assert load_space(file) == {"gamma": {"low": 0.9, "high": 0.99}}


def test_sampled_points_decode_to_config_values():
    params = _check(
        {
            "horizon": {"low": 50, "high": 100},
            "learning_rate": {"low": 0.01, "high": 0.5, "log": True},
            "every_block": {"choices": [True, False]},
        }
    )
    assert params[0] == Param("horizon", low=50, high=100, integer=True)
    assert params[1].log and not params[1].integer
    values = decode(params, {"horizon": 71.0, "learning_rate": 0.2, "every_block": 1})
    assert values == {"horizon": 71, "learning_rate": 0.2, "every_block": False}
    assert type(values["horizon"]) is int


def test_a_choice_of_lists_is_kept_as_the_list():
    cls = agent_class("dqn")
    base = dict(find_preset(cls, "CartPole-v1").config)
    (param,) = check_space(cls, {"hidden_sizes": {"choices": [[64], [64, 64]]}}, base, "s")
    assert decode([param], {"hidden_sizes": 1}) == {"hidden_sizes": (64, 64)}


def _plan(params: list[Param]) -> SweepPlan:
    return SweepPlan(
        agent="q-learning",
        env="FrozenLake-v1",
        params=tuple(params),
        base=FROZEN_BASE,
        env_kwargs={},
        space_source="space.toml",
        steps=1000,
        metric="mean_return",
        mode="max",
        trials=3,
        seeds_per_trial=1,
        seed=0,
        evaluations=4,
        eval_episodes=10,
    )


def test_best_is_the_finished_trial_with_the_best_final_score():
    plan = _plan(_check({"gamma": {"low": 0.9, "high": 1.0}}))
    rows = [
        {"trial": "trial-0001", "status": "complete", "objective": 0.5, "gamma": 0.95},
        {"trial": "trial-0002", "status": "pruned", "objective": 0.9, "gamma": 0.91},
        {"trial": "trial-0003", "status": "complete", "objective": 0.7, "gamma": 0.99},
        {"trial": "trial-0004", "status": "error", "objective": None, "gamma": 0.92},
    ]
    assert best_row(rows, plan)["trial"] == "trial-0003"
    assert best_row(rows[1:2], plan) is None


def test_best_toml_reads_back_as_the_same_config(tmp_path):
    plan = _plan(_check({"gamma": {"low": 0.9, "high": 1.0}}))
    row = {"trial": "trial-0002", "objective": 0.75, "gamma": 0.97}
    file = tmp_path / "best.toml"
    file.write_text(best_toml(row, plan))
    values = load_config_file(file)
    assert values == {**values, **FROZEN_BASE, "gamma": 0.97}
    assert toml_value(None) == '"none"' and toml_value((1, 2)) == "[1, 2]"


def test_a_trial_reports_the_mean_over_its_seeds_once_each_was_evaluated():
    reports = []
    reporter = Reporter(2, "success", reports.append)
    reporter(None, 100, {"mean_return": 0.0, "metrics": {"success": 0.5}})
    assert reports == []
    reporter(None, 100, {"mean_return": 0.0, "metrics": {"success": 1.0}})
    assert reports == [{"objective": 0.75, "step": 100}]
    assert metric_value({"mean_return": 2.0}, "mean_return") == 2.0


def test_a_restarted_trial_writes_beside_its_earlier_attempt(tmp_path):
    assert fresh_folder(tmp_path / "trial-0001") == tmp_path / "trial-0001"
    (tmp_path / "trial-0001").mkdir()
    (tmp_path / "trial-0001.2").mkdir()
    assert fresh_folder(tmp_path / "trial-0001") == tmp_path / "trial-0001.3"
