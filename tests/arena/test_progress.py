"""The progress shown on stderr: throttled, and always ending on the last step."""

from types import SimpleNamespace

from arena.progress import ProgressBar


def test_plain_progress_prints_a_few_lines_ending_on_the_last_step(capsys):
    bar = ProgressBar(plain_lines=10)
    bar.on_learn_start(SimpleNamespace(name="toy", num_timesteps=0), 100_000)
    for step in range(1, 100_001):
        assert bar.on_step(step)
    bar.on_learn_end(SimpleNamespace())
    lines = capsys.readouterr().err.splitlines()
    assert 1 <= len(lines) <= 10
    assert lines[-1].startswith("step 100000/100000  ")
