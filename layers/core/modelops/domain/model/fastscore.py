"""A NumPy-only scorer for histogram gradient boosting: the online path's model.

scikit-learn's ``predict_proba`` on one row costs about a millisecond (input checks, an
OpenMP pool) and needs scipy and scikit-learn in the function. The fitted trees are just
arrays, so ``export`` flattens them and ``FastModel`` walks every tree at once (rows in a
batch one depth level per step; a single row by letting every node decide, then jumping to
the leaves), with the same rules as scikit-learn's predictor: NaN follows the node's
missing side; a category in the left bitset goes left, another known one goes right, an
unknown or negative one counts as missing. Deploy checks it against scikit-learn's scores
on the test sample and refuses it beyond ``TOLERANCE``; other estimators use scikit-learn.
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass
from typing import Any

import numpy as np

TOLERANCE = 1e-9


def export(estimator: Any) -> dict[str, np.ndarray] | None:
    """The arrays of a binary HistGradientBoostingClassifier, or None for anything else."""
    predictors = getattr(estimator, "_predictors", None)
    if predictors is None or any(len(iteration) != 1 for iteration in predictors):
        return None
    trees = [iteration[0] for iteration in predictors]
    offsets = np.cumsum([0] + [tree.nodes.size for tree in trees[:-1]])
    bitset_offsets = np.cumsum([0] + [tree.raw_left_cat_bitsets.shape[0] for tree in trees[:-1]])
    nodes = np.concatenate([tree.nodes for tree in trees])
    sizes = [tree.nodes.size for tree in trees]
    node_offset = np.repeat(offsets, sizes)
    known, f_idx_map = estimator._bin_mapper.make_known_categories_bitsets()
    bitsets = [tree.raw_left_cat_bitsets for tree in trees if tree.raw_left_cat_bitsets.size]
    # With categorical features scikit-learn reorders the columns (categories first) and
    # ordinal-encodes the categories (unknown -> NaN) before the trees see them.
    n_features = int(estimator.n_features_in_)
    order, categories = np.arange(n_features), np.full((0, 1), np.nan)
    if estimator._preprocessor is not None:
        mask = np.asarray(estimator.is_categorical_, dtype=bool)
        order = np.concatenate([np.flatnonzero(mask), np.flatnonzero(~mask)])
        encoded = estimator._preprocessor.named_transformers_["encoder"].categories_
        categories = np.full((len(encoded), max(len(c) for c in encoded)), np.nan)
        for j, known_values in enumerate(encoded):
            categories[j, : len(known_values)] = known_values
    index = np.arange(nodes.size)
    leaf = nodes["is_leaf"].astype(bool)
    left = np.where(leaf, index, nodes["left"] + node_offset)  # a leaf is its own child: walks stop there
    right = np.where(leaf, index, nodes["right"] + node_offset)
    return {
        "order": order.astype(np.int64),
        "categories": categories.astype(np.float64),
        "roots": offsets.astype(np.int64),
        "feature": nodes["feature_idx"].astype(np.int64),
        "threshold": nodes["num_threshold"].astype(np.float64),
        "missing_left": nodes["missing_go_to_left"].astype(bool),
        "left": left.astype(np.int64),
        "right": right.astype(np.int64),
        "is_leaf": nodes["is_leaf"].astype(bool),
        "value": nodes["value"].astype(np.float64),
        "is_categorical": nodes["is_categorical"].astype(bool),
        # Row of each categorical node's bitset; 0 for the others, whose bitset_idx means
        # nothing (only categorical nodes look theirs up).
        "bitset": np.where(
            nodes["is_categorical"].astype(bool), nodes["bitset_idx"] + np.repeat(bitset_offsets, sizes), 0
        ).astype(np.int64),
        "left_bitsets": (np.concatenate(bitsets) if bitsets else np.zeros((1, 8))).astype(np.uint32),
        "known_bitsets": (known if known.size else np.zeros((1, 8))).astype(np.uint32),
        "f_idx_map": f_idx_map.astype(np.int64),
        "baseline": np.asarray(estimator._baseline_prediction, dtype=np.float64).reshape(1),
        "depth": np.array([int(nodes["depth"].max()) + 1], dtype=np.int64),
    }


def _in_bitsets(bitsets: np.ndarray, row: np.ndarray, code: np.ndarray) -> np.ndarray:
    words = bitsets[row, code >> 5]
    in_set: np.ndarray = ((words >> (code & 31).astype(np.uint32)) & 1).astype(bool)
    return in_set


@dataclass(frozen=True)
class FastModel:
    arrays: dict[str, np.ndarray]

    @functools.cached_property
    def _category_codes(self) -> list[dict[float, float]]:
        """Per categorical column: raw category -> scikit-learn's ordinal code."""
        columns = [known[~np.isnan(known)] for known in self.arrays["categories"]]
        return [{float(v): float(i) for i, v in enumerate(known)} for known in columns]

    def _encode(self, X: np.ndarray) -> np.ndarray:
        """scikit-learn's own column order and category codes (unknown -> NaN)."""
        X = X[:, self.arrays["order"]]
        for j, codes in enumerate(self._category_codes):
            if X.shape[0] == 1:  # the online path: a dict lookup beats array searches
                X[0, j] = codes.get(float(X[0, j]), np.nan)
                continue
            known = np.array(list(codes), dtype=np.float64)
            position = np.searchsorted(known, X[:, j]).clip(max=max(known.size - 1, 0))
            match = known.size > 0 and known[position] == X[:, j]
            X[:, j] = np.where(match, position, np.nan)
        return X

    def raw(self, X: np.ndarray) -> np.ndarray:
        """Raw scores (log-odds) of rows X (n, features)."""
        X = self._encode(X)
        return self._raw_one(X[0]) if X.shape[0] == 1 else self._raw_many(X)

    def _goes_left(self, node: np.ndarray, feature: np.ndarray, value: np.ndarray) -> np.ndarray:
        """Whether a walk at each node, holding the value of that node's feature, goes left:
        scikit-learn's rules for a threshold, a missing value and a category (looked up for
        the categorical nodes only)."""
        a = self.arrays
        missing = np.isnan(value)
        left: np.ndarray = (value <= a["threshold"][node]) | (missing & a["missing_left"][node])
        categorical = np.flatnonzero(a["is_categorical"][node] & ~missing)
        if categorical.size:
            at, category = node[categorical], value[categorical]
            valid = (category >= 0) & (category < 256)
            code = np.where(valid, category, 0).astype(np.int64)
            in_left = _in_bitsets(a["left_bitsets"], a["bitset"][at], code)
            known = _in_bitsets(a["known_bitsets"], a["f_idx_map"][feature[categorical]], code)
            unknown = ~valid | (~in_left & ~known)
            left[categorical] = np.where(unknown, a["missing_left"][at], in_left)
        return left

    @functools.cached_property
    def _every_node(self) -> np.ndarray:
        return np.arange(self.arrays["feature"].size)

    def _raw_one(self, x: np.ndarray) -> np.ndarray:
        """One row (the online path): every node of every tree decides at once, then each walk
        jumps to its leaf by doubling (a node's child, its child's child, ...; a leaf is its own
        child), a few whole-array steps instead of one small step per level."""
        a = self.arrays
        left = self._goes_left(self._every_node, a["feature"], x[a["feature"]])
        child = np.where(left, a["left"], a["right"])
        for _ in range(int(a["depth"][0]).bit_length()):  # 2**steps > depth: every walk ends
            child = child[child]
        return np.array([a["baseline"][0] + a["value"][child[a["roots"]]].sum()])

    def _raw_many(self, X: np.ndarray) -> np.ndarray:
        """Every (row, tree) walk advances one level per step, and walks that reached their leaf
        (a leaf is its own child) drop out, so later levels, where few trees are still that
        deep, cost little."""
        a = self.arrays
        n, trees = X.shape[0], a["roots"].size
        row = np.repeat(np.arange(n), trees)
        node = np.tile(a["roots"], n)
        total = np.full(n, a["baseline"][0])
        for _ in range(int(a["depth"][0])):
            feature = a["feature"][node]
            left = self._goes_left(node, feature, X[row, feature])
            child = np.where(left, a["left"][node], a["right"][node])
            finished = child == node
            if finished.any():
                total += np.bincount(row[finished], weights=a["value"][child[finished]], minlength=n)
                row, child = row[~finished], child[~finished]
            if not child.size:
                break
            node = child
        else:  # depth is the deepest leaf + 1, so every walk has ended; kept for safety
            total += np.bincount(row, weights=a["value"][node], minlength=n)
        return total

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """P(outcome = 1) of rows X, as scikit-learn's predict_proba(X)[:, 1]."""
        probability: np.ndarray = 1.0 / (1.0 + np.exp(-self.raw(X)))
        return probability

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        np.savez(buffer, **self.arrays)  # type: ignore[arg-type]
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, body: bytes) -> FastModel:
        with np.load(io.BytesIO(body), allow_pickle=False) as archive:
            return cls({name: archive[name] for name in archive.files})


def max_difference(model: FastModel, X: np.ndarray, reference: np.ndarray) -> float:
    """Largest absolute difference to reference scores (scikit-learn's) on the same rows."""
    return float(np.abs(model.predict_proba(X) - reference).max()) if X.shape[0] else 0.0
