"""Rating prediction: predict the rating a user gives an item, from the graph of known ratings (GCMC).

The data is :class:`~sagemaker_dgl.data.RatingData`. The test split is the data's own
(``split=auto``: MovieLens 100K's canonical ``u1``, a .mat file's ``Otest``), one of its other
splits by name, or a seeded random ``test_fraction`` (``split=random``, and data without a split
of its own); ``val_fraction`` of the remaining ratings (seeded) is the validation split, as in
DGL's GCMC example. The model encodes the graph of the training ratings; validation scores the
validation pairs on that graph, and the test split is scored on the graph of the training and
validation ratings (every rating the model may see), as the example and the paper do.

A test rating whose user or item has no rating in that graph stays in the evaluation: the model
predicts it from what it has (the decoder's bias terms, plus side features if used); their
number is logged and in the model's data facts.

Loss: cross-entropy over the rating levels; the prediction is the expected level. Metrics
``<split>_rmse`` and ``<split>_mae``; the objective is ``val_rmse`` (minimised).
"""
import logging
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F

from ..artifacts import read_ids, write_ids
from ..config.groups import HyperparameterGroup, hyperparameter
from ..data import RatingData
from ..errors import ConfigError, SageMakerDGLError
from ..models.gcmc import pair_graph, rating_graph
from ..plots import plot_embeddings
from ..registry import closest
from ._base import Objective, Predictor, Step, Task, register_task
from ._splits import random_split

logger = logging.getLogger(__name__)

USERS_FILE, ITEMS_FILE, ITEM_NAMES_FILE = "users.tsv", "items.tsv", "item_names.tsv"
USER_EMBEDDINGS, ITEM_EMBEDDINGS, RATED_PAIRS = "user_embeddings.npy", "item_embeddings.npy", "rated_pairs.npy"


class RatingPredictionHyperparameters(HyperparameterGroup):
    """Hyperparameters of rating prediction."""

    split: str = hyperparameter(
        "auto", "The test split: auto (the data's own: MovieLens 100K's u1, a .mat file's Otest; else random), "
        "random (seeded, test_fraction of the ratings) or one of the data's splits by name (u1 ... u5, ua, ub).",
    )
    test_fraction: float = hyperparameter(0.1, "Random test split: fraction of the ratings held out for testing.",
                                          gt=0.0, lt=1.0)
    val_fraction: float = hyperparameter(
        0.1, "Fraction of the non-test ratings held out (seeded) for validation, which selects the best epoch.",
        gt=0.0, lt=1.0,
    )


class RatingPredictor(Predictor):
    """Predicts ratings and recommends items, from the embeddings saved with the model::

        predictor = sagemaker_dgl.load_model("model")
        predictor.predict([("196", "242"), ("186", "302")])   # [3.9, 3.4]
        predictor.recommend("196", k=5)
        # [{'item': '1449', 'name': 'Pather Panchali (1955)', 'rating': 4.71}, ...]

    Users and items are given by their ids in the data files; ``recommend`` leaves out the items
    the user has rated in the data.
    """

    def __init__(self, model, config, model_dir, device):
        super().__init__(model, config, model_dir, device)
        self.users = read_ids(self.model_dir / USERS_FILE)
        self.items = read_ids(self.model_dir / ITEMS_FILE)
        names = self.model_dir / ITEM_NAMES_FILE
        self.item_names = dict(line.split("\t", 1) for line in names.read_text(encoding="utf-8").splitlines()) \
            if names.is_file() else {}
        self.user_index = {user: index for index, user in enumerate(self.users)}
        self.item_index = {item: index for index, item in enumerate(self.items)}
        self.user_embeddings = torch.from_numpy(np.load(self.model_dir / USER_EMBEDDINGS)).to(device)
        self.item_embeddings = torch.from_numpy(np.load(self.model_dir / ITEM_EMBEDDINGS)).to(device)
        self._rated = None

    def predict(self, pairs: Sequence[Tuple[str, str]]) -> List[float]:
        """The predicted rating of each (user id, item id)."""
        users = torch.tensor([self._index(user, self.user_index, "user") for user, _ in pairs], dtype=torch.int64)
        items = torch.tensor([self._index(item, self.item_index, "item") for _, item in pairs], dtype=torch.int64)
        return self._ratings(users, items).tolist()

    def recommend(self, user: str, k: int = 10) -> List[Dict]:
        """The ``k`` items with the highest predicted rating that ``user`` has not rated."""
        index = self._index(user, self.user_index, "user")
        items = torch.arange(len(self.items))
        ratings = self._ratings(torch.full_like(items, index), items)
        ratings[self._rated_items(index)] = -torch.inf
        values, best = torch.topk(ratings, min(k, len(ratings)))
        return [{"item": self.items[i], "name": self.item_names.get(self.items[i], ""), "rating": float(v)}
                for v, i in zip(values.tolist(), best.tolist()) if v > -torch.inf]

    def _ratings(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            pairs = pair_graph(users, items, len(self.users), len(self.items)).to(self.device)
            logits = self.model.decode(pairs, self.user_embeddings, self.item_embeddings)
            return self.model.expected_rating(logits).cpu()

    def _rated_items(self, user: int) -> torch.Tensor:
        if self._rated is None:
            self._rated = torch.from_numpy(np.load(self.model_dir / RATED_PAIRS))
        return self._rated[self._rated[:, 0] == user, 1]

    @staticmethod
    def _index(name, index: Dict[str, int], kind: str) -> int:
        name = str(name)
        if name not in index:
            close = closest(name, list(index))
            raise SageMakerDGLError(f"unknown {kind} {name!r}" + (f" (did you mean {close!r}?)" if close else "")
                                    + f"; the model knows {len(index)} {kind} ids from the data")
        return index[name]


@register_task("rating_prediction")
class RatingPrediction(Task):
    """Predict users' ratings of items."""

    hyperparameters = RatingPredictionHyperparameters
    size_names = ("num_users", "num_items", "levels", "user_feats", "item_feats")
    objective = Objective("val_rmse", "min")
    logged_metrics = ("train_loss", "train_rmse", "val_rmse", "val_mae", "test_rmse", "test_mae")
    data_type = RatingData
    default_dataset = "ml-100k"
    predictor = RatingPredictor

    def __init__(self, hp, data: RatingData, channels, device):
        super().__init__(hp, data, channels, device)
        self.levels = torch.tensor(data.scale, dtype=torch.float32)
        self.labels = torch.searchsorted(self.levels, data.ratings.float())
        self.rows = self._split()
        self.side_features = getattr(hp.model, "side_features", False)
        if self.side_features and (data.user_features is None or data.item_features is None):
            raise ConfigError(f"side_features=true, but dataset '{data.name}' has no side features for "
                              f"{'users' if data.user_features is None else 'items'}; set side_features=false")
        seen = torch.cat([self.rows["train"], self.rows["val"]])
        self.graphs = {"val": self._graph(self.rows["train"]), "test": self._graph(seen)}
        self.graphs["train"] = self.graphs["val"]
        self.pairs = {split: pair_graph(*data.pairs[rows].t(), len(data.users), len(data.items)).to(device)
                      for split, rows in self.rows.items()}
        self.unseen = self._unseen(seen, self.rows["test"])
        if self.unseen:
            logger.info("%d test rating(s) have a user or item without a training or validation rating; they stay in "
                        "the evaluation (predicted from the decoder's bias%s)", self.unseen,
                        " and side features" if self.side_features else "")

    def model_sizes(self):
        return {"num_users": len(self.data.users), "num_items": len(self.data.items), "levels": self.data.scale,
                "user_feats": self.data.user_features.shape[1] if self.side_features else 0,
                "item_feats": self.data.item_features.shape[1] if self.side_features else 0}

    def data_facts(self):
        return {"dataset": self.data.name, "num_users": len(self.data.users), "num_items": len(self.data.items),
                "levels": self.data.scale, "split": self.split_name, "side_features": self.side_features,
                **{f"num_{split}_ratings": len(rows) for split, rows in self.rows.items()},
                "test_ratings_with_unseen_user_or_item": self.unseen, **self.data.info}

    # --- Data ---
    def _split(self) -> Dict[str, torch.Tensor]:
        task, folds = self.hp.task, self.data.test_folds
        rows = torch.arange(len(self.data.ratings))
        name = task.split
        if name == "auto":
            name = next(iter(folds), "random")
        if name == "random":
            self.split_name = f"random test_fraction={task.test_fraction:g}"
            parts = random_split(rows, {"test": task.test_fraction, "val": task.val_fraction * (1 - task.test_fraction)},
                                 self.hp.common.seed, rest="train")
            return {split: parts[split] for split in ("train", "val", "test")}
        if name not in folds:
            known = ", ".join(folds) or "none"
            raise ConfigError(f"split={name!r}: dataset '{self.data.name}' has no such split (its splits: {known}); "
                              "use split=auto, random or one of those")
        self.split_name = name
        test = folds[name]
        rest = rows[~torch.isin(rows, test)]
        parts = random_split(rest, {"val": task.val_fraction}, self.hp.common.seed, rest="train")
        return {"train": parts["train"], "val": parts["val"], "test": test}

    def _graph(self, rows: torch.Tensor):
        graph = rating_graph(self.data.pairs[rows], self.labels[rows], len(self.data.users), len(self.data.items),
                             len(self.levels))
        if self.side_features:
            graph.nodes["user"].data["feat"] = self.data.user_features
            graph.nodes["item"].data["feat"] = self.data.item_features
        return graph.to(self.device)

    def _unseen(self, seen: torch.Tensor, test: torch.Tensor) -> int:
        users = torch.zeros(len(self.data.users), dtype=torch.bool)
        items = torch.zeros(len(self.data.items), dtype=torch.bool)
        users[self.data.pairs[seen, 0]] = True
        items[self.data.pairs[seen, 1]] = True
        pairs = self.data.pairs[test]
        return int((~users[pairs[:, 0]] | ~items[pairs[:, 1]]).sum())

    # --- Training and evaluation ---
    def train_batches(self, epoch):
        return ["train"]  # full graph, every training rating at once (as the paper and DGL's example)

    def training_step(self, model, batch):
        logits = model(self.graphs["train"], self.pairs["train"])
        rows = self.rows["train"]
        loss = F.cross_entropy(logits, self.labels[rows].to(self.device))
        rmse = (model.expected_rating(logits.detach()) - self.data.ratings[rows].to(self.device)).pow(2).mean().sqrt()
        return Step(loss, {"train_loss": loss.item(), "train_rmse": rmse.item()}, len(rows))

    def evaluate(self, model, split):
        logits = model(self.graphs[split], self.pairs[split])
        error = model.expected_rating(logits) - self.data.ratings[self.rows[split]].to(self.device)
        return {f"{split}_rmse": error.pow(2).mean().sqrt().item(), f"{split}_mae": error.abs().mean().item()}

    # --- Artifacts ---
    def _embeddings(self, model) -> Tuple[torch.Tensor, torch.Tensor]:
        """Every user's and item's embedding on the graph of the training and validation ratings."""
        with torch.no_grad():
            users, items = model.encode(self.graphs["test"])
        return users.cpu(), items.cpu()

    def save_assets(self, model, directory: Path):
        users, items = self._embeddings(model)
        np.save(directory / USER_EMBEDDINGS, users.numpy())
        np.save(directory / ITEM_EMBEDDINGS, items.numpy())
        np.save(directory / RATED_PAIRS, self.data.pairs.numpy())
        write_ids(directory / USERS_FILE, self.data.users)
        write_ids(directory / ITEMS_FILE, self.data.items)
        assets = {"user_embeddings": USER_EMBEDDINGS, "item_embeddings": ITEM_EMBEDDINGS, "rated_pairs": RATED_PAIRS,
                  "users": USERS_FILE, "items": ITEMS_FILE}
        if self.data.item_names:
            (directory / ITEM_NAMES_FILE).write_text(
                "".join(f"{item}\t{name}\n" for item, name in self.data.item_names.items()), encoding="utf-8")
            assets["item_names"] = ITEM_NAMES_FILE
        return assets

    def write_outputs(self, model, directory: Path):
        _, items = self._embeddings(model)
        mean = torch.zeros(len(self.data.items)).index_add_(0, self.data.pairs[:, 1], self.data.ratings)
        count = torch.bincount(self.data.pairs[:, 1], minlength=len(self.data.items)).clamp(min=1)
        plot_embeddings(items, (mean / count).round().long(), directory / "item_embeddings.png")
        return {"item_embeddings_plot": "item_embeddings.png"}
