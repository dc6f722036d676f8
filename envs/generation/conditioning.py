"""Conditional play of ``arena/Generation-v0``: requested classes, real samples of those classes,
and the judge that says whether a generated sample is of the class asked for.

A target's classes are a mixture's modes (numbered as its ``centres``) or a data set's labels.
The judge is independent of the env's referee:

- Mixture: a sample's class is its nearest mode.
- Data set: a support vector classifier (RBF kernel, ``C=10``, ``gamma="scale"``) fitted on
  three quarters of the real set (at most ``JUDGE_TRAIN`` samples), chosen by a fixed seed;
  :attr:`SVCJudge.held_out_accuracy` is its accuracy on the other quarter (at most
  ``JUDGE_TRAIN`` samples of it): 0.998 on the digits, 0.859 on Fashion-MNIST.

``label_agreement`` is the share of generated samples that the judge puts in the class they
were asked to be of.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np

from envs.generation.metrics import DataSet, Mixture, Tally, Target

JUDGE_TRAIN = 5000
"""The most real samples a data set's judge is fitted on (an SVC's fit grows as N^2), and the
most it is scored on (on Fashion-MNIST, scoring 5,000 takes 4 CPU seconds)."""
JUDGE_SEED = 0
"""Seeds the split of a data set into the judge's training and held-out parts."""


def num_classes(target: Target) -> int:
    """The classes a conditional game can ask for: a mixture's modes or a data set's labels."""
    return target.num_modes


def check_classes(target: Target) -> None:
    """Checks that every class a conditional game may ask for has real samples.

    Raises:
        ValueError: A data set's labels skip a class between 0 and the largest.
    """
    if isinstance(target, DataSet):
        class_members(target)


def sample_of_classes(target: Target, rng: np.random.Generator, labels: np.ndarray) -> np.ndarray:
    """One real sample of each requested class, in data coordinates, shape (len(labels), D).

    A data set's sample is drawn uniformly from the real samples of its class.
    """
    if isinstance(target, Mixture):
        return target.centres[labels] + target.std * rng.standard_normal((len(labels), target.dim))
    members = class_members(target)
    picks = [members[label][rng.integers(len(members[label]))] for label in labels]
    return target.data[np.asarray(picks, np.int64)]


_members: weakref.WeakKeyDictionary[DataSet, list[np.ndarray]] = weakref.WeakKeyDictionary()


def class_members(target: DataSet) -> list[np.ndarray]:
    """The row indices of each class of a data set (cached per target).

    Raises:
        ValueError: A class between 0 and the largest label has no sample.
    """
    if target not in _members:
        members = [np.flatnonzero(target.labels == c) for c in range(target.num_modes)]
        empty = [c for c, rows in enumerate(members) if len(rows) == 0]
        if empty:
            raise ValueError(
                f"{target.name}: a conditional game asks for every class 0..{target.num_modes - 1}"
                f", but the labels have no sample of class {empty[0]}."
            )
        _members[target] = members
    return _members[target]


class NearestModeJudge:
    """Classifies a mixture's samples by their nearest mode.

    Args:
        target: The mixture.
    """

    def __init__(self, target: Mixture) -> None:
        self.centres_KD = target.centres

    def predict(self, samples_ND: np.ndarray) -> np.ndarray:
        """The nearest mode of each sample (data coordinates), -1 for a non-finite one."""
        d2_NK = ((samples_ND[:, None, :] - self.centres_KD[None, :, :]) ** 2).sum(axis=2)
        finite = np.isfinite(d2_NK).all(axis=1)
        return np.where(finite, np.argmin(np.nan_to_num(d2_NK, nan=np.inf), axis=1), -1)


@dataclass(eq=False)
class SVCJudge:
    """Classifies a data set's samples with a support vector classifier fitted on real ones.

    Attributes:
        model: scikit-learn's fitted ``SVC``.
        held_out_accuracy: Its accuracy on the real samples it was not fitted on; None when the
            set is too small to hold any out.
    """

    model: object
    held_out_accuracy: float | None

    @classmethod
    def fit(cls, target: DataSet) -> SVCJudge:
        """Fits the judge on a fixed three quarters of the set and scores it on the other
        quarter (at most ``JUDGE_TRAIN`` of each)."""
        from sklearn.svm import SVC

        order = np.random.default_rng(JUDGE_SEED).permutation(len(target.data))
        quarter = len(order) // 4
        held, train = order[:quarter][:JUDGE_TRAIN], order[quarter:][:JUDGE_TRAIN]
        if len(held) == 0 or len(np.unique(target.labels[train])) < 2:
            held, train = order[:0], order
        model = SVC(C=10.0, gamma="scale").fit(target.data[train], target.labels[train])
        accuracy = None
        if len(held):
            accuracy = float((model.predict(target.data[held]) == target.labels[held]).mean())
        return cls(model, accuracy)

    def predict(self, samples_ND: np.ndarray) -> np.ndarray:
        """The predicted class of each sample, -1 for a non-finite one."""
        finite = np.isfinite(samples_ND).all(axis=1)
        out = np.full(len(samples_ND), -1, np.int64)
        if finite.any():
            out[finite] = self.model.predict(samples_ND[finite].astype(np.float64))
        return out


Judge = NearestModeJudge | SVCJudge
_judges: weakref.WeakKeyDictionary[DataSet, SVCJudge] = weakref.WeakKeyDictionary()


def judge_for(target: Target) -> Judge:
    """The judge of a target's classes; a data set's is fitted once per target object."""
    if isinstance(target, Mixture):
        return NearestModeJudge(target)
    if target not in _judges:
        _judges[target] = SVCJudge.fit(target)
    return _judges[target]


def label_agreement(target: Target, samples_ND: np.ndarray, labels_N: np.ndarray) -> float:
    """The share of samples (data coordinates) that the judge puts in their requested class."""
    samples_ND = np.asarray(samples_ND, np.float64).reshape(len(samples_ND), -1)
    predicted = judge_for(target).predict(samples_ND)
    return float((predicted == np.asarray(labels_N)).mean()) if len(samples_ND) else 0.0


class ConditionalTally(Tally):
    """A :class:`Tally` of samples each asked to be of a class; it adds ``label_agreement``.

    Args:
        target: What the samples are scored against.
    """

    def __init__(self, target: Target) -> None:
        super().__init__(target)
        self.judge = judge_for(target)
        self.agreed = 0

    def add_labelled(self, samples_ND: np.ndarray, labels_N: np.ndarray) -> float:
        """Scores a batch in data coordinates asked to be of ``labels_N``.

        Returns:
            The step's reward: the mean of each sample's quality (as the unconditional game
            scores it), counted only for the samples the judge puts in their requested class.
        """
        self.add(samples_ND)
        quality_N, _ = self.target.score(samples_ND)
        agree_N = self.judge.predict(samples_ND) == labels_N
        self.agreed += int(agree_N.sum())
        return float((quality_N * agree_N).mean()) if len(samples_ND) else 0.0

    def metrics(self) -> dict[str, float]:
        """The unconditional scores and ``label_agreement``."""
        return {**super().metrics(), "label_agreement": self.agreed / max(self.count, 1)}
