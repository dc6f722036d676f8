"""Benchmark of the classification game: perceptron, mlp and cnn against their peers.

Run it from the repository root (a few minutes; ``--skip-ppo`` leaves out the SB3 check)::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/supervised.py

It measures, in one run, on the fixed test splits (train split for the perceptron), averaged
over agent seeds 0, 1 and 2, each agent trained with its shipped preset:

- digits ``mlp`` >= 97.5%, digits ``cnn`` >= 98.5%, iris ``mlp`` >= 95% test accuracy (iris
  also across three splits, ``data_seed`` 0, 1, 2, since its default test split has 30 samples);
- blobs ``perceptron``: 100% training accuracy (and, on XOR, that it says it did not converge);
- the game's cost: ``mlp`` trained on digits through the env, against the same network, data,
  batch size and epochs in a bare PyTorch loop; wall-time ratio <= 1.2;
- ``mlp`` against scikit-learn's ``MLPClassifier((64,), max_iter=300)`` on digits: equal or
  better test accuracy in less wall time;
- SB3's PPO on ``arena/Iris-v0`` (batch_size=1) from the reward alone: >= 80% test accuracy.

Torch and BLAS run on one thread on both sides of every comparison.

Measured here (2 shared cores, load 8 to 16 from other helpers' jobs), 8 of 9 targets met:

- digits mlp 98.61% (98.61, 98.33, 98.89); digits cnn 99.16% (99.44, 98.89, 99.16);
- iris mlp 90.00% on the default split: MISSED, where LogisticRegression and SVC also get
  90.00% (3 of 30 test flowers are borderline); 95.56% across data_seed 0, 1, 2: met;
- blobs perceptron 100% training accuracy, converged in every seed; XOR: converged False;
- game cost, wall time env / bare 1.013 (best of 15), 1.068 (median of pairs); CPU 1.027;
- against MLPClassifier: +1.76 points of accuracy (98.61% vs 96.84%), wall time ratio 0.539;
- PPO (same code, run on its own): 86.67%, 86.67%, 76.67%, mean 83.33% test accuracy.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import torch

from arena import evaluate, make_agent, make_env
from arena.presets import find_preset
from arena.registry import agent_class

SEEDS = (0, 1, 2)


def preset_run(name: str, env_id: str, seed: int, data_seed: int = 0) -> tuple[Any, float, float]:
    """Trains ``name`` with its preset on ``env_id``; returns agent, seconds, test accuracy."""
    preset = find_preset(agent_class(name), env_id)
    kwargs = {**preset.env_kwargs, "data_seed": data_seed}
    env = make_env(env_id, **kwargs)
    agent = make_agent(name, env, seed=seed, device="cpu", preset=True)
    started = time.perf_counter()
    agent.learn(env, preset.steps, progress=False)
    seconds = time.perf_counter() - started
    test = make_env(env_id, **kwargs, split="test")
    return agent, seconds, evaluate(agent, test, episodes=1).metrics["accuracy"]


def check(label: str, value: float, target: str, met: bool) -> bool:
    print(f"  {label:<58} {value:8.4f}   target {target:<16} {'MET' if met else 'MISSED'}")
    return met


def accuracy_targets() -> list[bool]:
    print("Test accuracy, mean of seeds 0, 1, 2 (preset budgets):")
    results = []
    for name, env_id, target in (
        ("mlp", "arena/Digits-v0", 0.975),
        ("cnn", "arena/Digits-v0", 0.985),
        ("mlp", "arena/Iris-v0", 0.95),
    ):
        runs = [preset_run(name, env_id, seed) for seed in SEEDS]
        accuracies = [r[2] for r in runs]
        print(
            f"  {name} on {env_id}: {', '.join(f'{a:.4f}' for a in accuracies)} "
            f"({statistics.fmean(r[1] for r in runs):.1f}s each, epochs "
            f"{', '.join(str(r[0].learn_info['epochs']) for r in runs)})"
        )
        mean = statistics.fmean(accuracies)
        results.append(
            check(f"{name} {env_id} test accuracy", mean, f">= {target}", mean >= target)
        )
    results.append(iris_across_splits())
    blobs = {"dataset": "blobs", "batch_size": 8}
    train_accuracies, converged = [], []
    for seed in SEEDS:
        env = make_env("arena/Classification-v0", **blobs)
        agent = make_agent("perceptron", env, seed=seed).learn(env, 5000, progress=False)
        report = evaluate(agent, make_env("arena/Classification-v0", **blobs), episodes=1)
        train_accuracies.append(report.metrics["accuracy"])
        converged.append(agent.learn_info["converged"])
    mean = statistics.fmean(train_accuracies)
    print(f"  perceptron on blobs: converged {converged}")
    results.append(check("perceptron blobs training accuracy", mean, "== 1.0", mean == 1.0))
    env = make_env("arena/XOR-v0", batch_size=32)
    agent = make_agent("perceptron", env, seed=0).learn(env, 400, progress=False)
    print(f"  perceptron on XOR: learn_info {agent.learn_info}")
    results.append(agent.learn_info["converged"] is False)
    return results


def iris_across_splits() -> bool:
    """Iris's test split has 30 samples; on the default one (data_seed=0) three borderline
    flowers defeat every classic classifier, so this also averages over three splits."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import SVC

    train, test = make_env("arena/Iris-v0"), make_env("arena/Iris-v0", split="test")
    peers = {
        type(m).__name__: m.fit(train.unwrapped.X, train.unwrapped.y).score(
            test.unwrapped.X, test.unwrapped.y
        )
        for m in (LogisticRegression(max_iter=1000), SVC())
    }
    print(
        f"  peers on the default iris split: {', '.join(f'{k} {v:.4f}' for k, v in peers.items())}"
    )
    accuracies = [preset_run("mlp", "arena/Iris-v0", seed, data_seed=seed)[2] for seed in SEEDS]
    print(f"  mlp on iris, seed s with data_seed s: {', '.join(f'{a:.4f}' for a in accuracies)}")
    mean = statistics.fmean(accuracies)
    return check("mlp iris test accuracy, across 3 splits", mean, ">= 0.95", mean >= 0.95)


def bare_loop(env: Any, agent: Any, epochs: int, seed: int) -> None:
    """The agent's network, data, batch size and epochs, in a plain PyTorch loop."""
    from agents.supervised.networks import build_mlp, init_weights

    config = agent.config
    net = build_mlp(agent.layout, config.hidden_sizes, config.activation)
    generator = torch.Generator().manual_seed(seed)
    init_weights(net, generator)
    optimizer = torch.optim.AdamW(
        net.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay, foreach=True
    )
    X = torch.as_tensor(env.unwrapped.X)
    y = torch.as_tensor(env.unwrapped.y)
    batch = agent.layout.batch_size
    for _ in range(epochs):
        order = torch.randperm(len(X), generator=generator)
        for start in range(0, len(X), batch):
            rows = order[start : start + batch]
            loss = torch.nn.functional.cross_entropy(
                net(X[rows]), y[rows], label_smoothing=config.label_smoothing
            )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()


def timed(run: Any) -> tuple[float, float]:
    """Runs ``run()``; returns its wall time and this process's CPU time, in seconds."""
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    return time.perf_counter() - wall, time.process_time() - cpu


def game_cost(epochs: int = 10, repeats: int = 15) -> bool:
    """Interleaves short runs, so that both sides see the same machine load; on a shared
    machine the best of many short runs estimates the unloaded time, and CPU time is shown
    beside wall time because other processes inflate the latter."""
    print(f"\nThe game's cost: mlp on digits, {epochs} epochs x {repeats}, no early stopping:")
    preset = find_preset(agent_class("mlp"), "arena/Digits-v0")
    env = make_env("arena/Digits-v0", **preset.env_kwargs)
    steps = epochs * -(-env.unwrapped.size // env.unwrapped.batch_size)
    ours, bare = [], []
    for repeat in range(repeats):
        agent = make_agent("mlp", env, seed=repeat, device="cpu", preset=True, early_stopping=False)
        ours.append(timed(lambda agent=agent: agent.learn(env, steps, progress=False)))
        assert agent.learn_info["epochs"] == epochs
        bare.append(timed(lambda agent=agent, r=repeat: bare_loop(env, agent, epochs, r)))
    for what, index in (("wall", 0), ("CPU", 1)):
        mine, theirs = [t[index] for t in ours], [t[index] for t in bare]
        paired = statistics.median(o / b for o, b in zip(mine, theirs, strict=True))
        print(
            f"  {what:>4} time: env best {min(mine):.3f}s, bare best {min(theirs):.3f}s, "
            f"best/best {min(mine) / min(theirs):.4f}, median of paired ratios {paired:.4f}"
        )
    ratio = min(t[0] for t in ours) / min(t[0] for t in bare)
    return check("wall time, env / bare (best of each)", ratio, "<= 1.2", ratio <= 1.2)


def against_sklearn() -> list[bool]:
    from sklearn.neural_network import MLPClassifier

    print("\nmlp against scikit-learn's MLPClassifier((64,), max_iter=300) on digits:")
    train, test = make_env("arena/Digits-v0"), make_env("arena/Digits-v0", split="test")
    X, y = train.unwrapped.X, train.unwrapped.y
    sk_seconds, sk_accuracy, our_seconds, our_accuracy = [], [], [], []
    for seed in SEEDS:
        started = time.perf_counter()
        model = MLPClassifier((64,), max_iter=300, random_state=seed).fit(X, y)
        sk_seconds.append(time.perf_counter() - started)
        sk_accuracy.append(model.score(test.unwrapped.X, test.unwrapped.y))
        _, seconds, accuracy = preset_run("mlp", "arena/Digits-v0", seed)
        our_seconds.append(seconds)
        our_accuracy.append(accuracy)
    for who, seconds, accuracy in (
        ("scikit-learn", sk_seconds, sk_accuracy),
        ("mlp", our_seconds, our_accuracy),
    ):
        print(
            f"  {who:<13} accuracy {', '.join(f'{a:.4f}' for a in accuracy)}  "
            f"time {', '.join(f'{s:.2f}s' for s in seconds)}"
        )
    gap = statistics.fmean(our_accuracy) - statistics.fmean(sk_accuracy)
    ratio = statistics.fmean(our_seconds) / statistics.fmean(sk_seconds)
    return [
        check("test accuracy, mlp - scikit-learn", gap, ">= 0", gap >= 0),
        check("wall time, mlp / scikit-learn", ratio, "< 1", ratio < 1),
    ]


def ppo_plays_iris(steps: int = 30_000) -> bool:
    from stable_baselines3 import PPO

    print(f"\nSB3 PPO on arena/Iris-v0 (batch_size=1), {steps} steps, from the reward alone:")
    accuracies = []
    for seed in SEEDS:
        model = PPO("MlpPolicy", make_env("arena/Iris-v0"), seed=seed, n_steps=512, verbose=0)
        model.learn(steps)
        test = make_env("arena/Iris-v0", split="test")
        observation, _ = test.reset(seed=0)
        done = False
        while not done:
            action, _ = model.predict(observation, deterministic=True)
            observation, _, done, _, info = test.step(int(action))
        accuracies.append(info["metrics"]["accuracy"])
    print(f"  test accuracy {', '.join(f'{a:.4f}' for a in accuracies)}")
    mean = statistics.fmean(accuracies)
    return check("PPO iris test accuracy", mean, ">= 0.8", mean >= 0.8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0], allow_abbrev=False)
    parser.add_argument("--skip-ppo", action="store_true", help="leave out the SB3 PPO check")
    args = parser.parse_args()
    torch.set_num_threads(1)
    results = accuracy_targets()
    results.append(game_cost())
    results += against_sklearn()
    if not args.skip_ppo:
        results.append(ppo_plays_iris())
    print(f"\n{sum(results)} of {len(results)} targets met.")


if __name__ == "__main__":
    main()
