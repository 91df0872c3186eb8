"""Rating data formats, the GCMC model and the rating prediction task, on small generated files."""
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from sagemaker_dgl.config import Hyperparameters
from sagemaker_dgl.data import FORMATS, RatingData, read_channel
from sagemaker_dgl.errors import ConfigError, DataFormatError
from sagemaker_dgl.models import create_model
from sagemaker_dgl.models.gcmc import level_etype, pair_graph, rating_graph
from sagemaker_dgl.tasks import TASKS
from sagemaker_dgl.trainer import Trainer
from tests.graphs import planted_ratings, write_movielens_100k


def detected(directory: Path):
    return [spec.name for spec in FORMATS.values() if spec.detect(directory)]


def replace_line(path: Path, number: int, text: str) -> None:
    lines = path.read_text().splitlines(keepends=True)
    lines[number - 1] = text
    path.write_text("".join(lines))


# --- Formats ----------------------------------------------------------------------------------
def test_movielens_100k_reads_ratings_splits_features_and_titles(tmp_path):
    directory = write_movielens_100k(tmp_path / "ml")
    assert detected(directory) == ["movielens_100k"]
    data = read_channel(directory, "auto", None)
    rows, user_group, item_group = planted_ratings()
    assert isinstance(data, RatingData) and len(data.ratings) == len(rows)
    assert data.users[:3] == ["1", "2", "3"] and data.scale == [1.0, 2.0, 3.0, 4.0, 5.0]
    first = data.pairs[0]
    assert (data.users[first[0]], data.items[first[1]], float(data.ratings[0])) == tuple(map(str, rows[0][:2])) + (rows[0][2],)
    test_lines = (directory / "u1.test").read_text().splitlines()
    assert list(data.test_folds) == ["u1"] and len(data.test_folds["u1"]) == len(test_lines)
    fold_first = data.test_folds["u1"][0]
    user, item = test_lines[0].split("\t")[:2]
    assert (data.users[data.pairs[fold_first, 0]], data.items[data.pairs[fold_first, 1]]) == (user, item)
    # users: age, gender, 2 occupations; items: 19 genres and the year
    assert data.user_features.shape == (40, 4) and data.item_features.shape == (30, 20)
    assert data.user_features[:, 1].tolist() == [float(g == 0) for g in user_group]  # 'M' for group 0
    assert data.item_names["1"] == "Movie 1 (1970)"


@pytest.mark.parametrize("line, fragment", [
    ("7\t3\tfour\t881250949\n", "u.data line 5: rating 'four' is not a number"),
    ("7\t3\t6\t881250949\n", "u.data line 5: rating 6 is outside the scale of MovieLens 100K (1, 2, 3, 4, 5)"),
    ("7\t3\n", "u.data line 5: fewer than 3 '\\t'-separated fields"),
])
def test_movielens_100k_bad_lines_name_the_file_and_line(tmp_path, line, fragment):
    directory = write_movielens_100k(tmp_path / "ml")
    replace_line(directory / "u.data", 5, line)
    with pytest.raises(DataFormatError, match=None) as error:
        read_channel(directory, "auto", None)
    assert fragment in str(error.value)


def test_a_repeated_rating_and_a_split_line_not_in_the_data_fail(tmp_path):
    directory = write_movielens_100k(tmp_path / "ml")
    first = (directory / "u.data").read_text().splitlines()[0]
    replace_line(directory / "u.data", 9, first + "\n")
    with pytest.raises(DataFormatError, match="u.data line 9: user .* again \\(first at line 1\\)"):
        read_channel(directory, "auto", None)
    directory = write_movielens_100k(tmp_path / "ml2")
    (directory / "u1.test").write_text("999\t1\t5\t0\n")
    with pytest.raises(DataFormatError, match="u1.test line 1: user 999 and item 1 are not a rating in u.data"):
        read_channel(directory, "auto", None)


def test_movielens_dat_and_csv_layouts(tmp_path):
    rows, _, _ = planted_ratings()
    dat = tmp_path / "ml-1m"
    dat.mkdir()
    (dat / "ratings.dat").write_text("".join(f"{u}::{i}::{r}::97830{u:04d}\n" for u, i, r in rows))
    (dat / "users.dat").write_text("".join(f"{u}::{'MF'[u % 2]}::{(1, 18, 25)[u % 3]}::{u % 21}::0\n" for u in range(1, 41)))
    (dat / "movies.dat").write_text("".join(f"{i}::Film {i} (1999)::{'Comedy|Drama' if i % 2 else 'Action'}\n"
                                            for i in range(1, 31)))
    assert detected(dat) == ["movielens_dat"]
    data = read_channel(dat, "auto", None)
    assert len(data.ratings) == len(rows) and data.test_folds == {}
    assert data.user_features.shape == (40, 1 + 7 + 21) and data.item_features.shape == (30, 3 + 1)
    assert data.item_names["2"] == "Film 2 (1999)"

    latest = tmp_path / "ml-latest"
    latest.mkdir()
    (latest / "ratings.csv").write_text("userId,movieId,rating,timestamp\n"
                                        + "".join(f"{u},{i},{r - 0.5 if r > 1 else r},1\n" for u, i, r in rows))
    (latest / "movies.csv").write_text("movieId,title,genres\n"
                                       + "".join(f'{i},"Film, {i} (2001)",Drama\n' for i in range(1, 31)))
    assert detected(latest) == ["movielens_csv"]
    data = read_channel(latest, "auto", None)
    assert data.scale == [1.0, 1.5, 3.5, 4.5] and data.item_names["3"] == "Film, 3 (2001)"
    replace_line(latest / "ratings.csv", 4, "1,999,5.5,1\n")
    with pytest.raises(DataFormatError, match=r"ratings.csv line 4: rating 5.5 is outside the scale of MovieLens"):
        read_channel(latest, "auto", None)


def write_mat_v73(path: Path, ratings: np.ndarray, train: np.ndarray, test: np.ndarray, users_graph=None) -> None:
    """A MATLAB v7.3 file as MATLAB writes it: HDF5, dense matrices column-major (stored transposed),
    sparse ones as a group of CSC arrays (data, ir, jc) with the row count in attribute MATLAB_sparse."""
    import h5py

    with h5py.File(path, "w") as handle:
        for key, value in (("M", ratings), ("Otraining", train), ("Otest", test)):
            handle.create_dataset(key, data=value.T)
        if users_graph is not None:
            csc = sp.csc_matrix(users_graph)
            group = handle.create_group("W_users")
            group.attrs["MATLAB_sparse"] = csc.shape[0]
            for key, value in (("data", csc.data), ("ir", csc.indices), ("jc", csc.indptr)):
                group.create_dataset(key, data=value)


def test_matrix_completion_mat_files_read_as_gcmcs_loader(tmp_path):
    rng = np.random.default_rng(0)
    ratings = rng.integers(1, 6, (6, 4)).astype(float)
    observed = rng.random((6, 4)) < 0.7
    test = observed & (rng.random((6, 4)) < 0.3)
    train = observed & ~test
    graph = np.zeros((6, 6))
    graph[0, 1] = graph[2, 5] = 1.0  # not symmetric: a transposed read would show
    directory = tmp_path / "douban"
    directory.mkdir()
    write_mat_v73(directory / "training_test_dataset.mat", ratings * observed, train.astype(float), test.astype(float),
                  graph)
    assert detected(directory) == ["matrix_completion"]
    data = read_channel(directory, "auto", None)
    assert len(data.users) == 6 and len(data.items) == 4 and len(data.ratings) == observed.sum()
    for (user, item), value in zip(data.pairs.tolist(), data.ratings.tolist()):
        assert ratings[user, item] == value and observed[user, item]
    assert sorted(map(tuple, data.pairs[data.test_folds["test"]].tolist())) == sorted(zip(*np.nonzero(test)))
    assert torch.equal(data.user_features, torch.tensor(graph, dtype=torch.float32)) and data.item_features is None

    import scipy.io  # an older MATLAB version (v5), read through SciPy

    old = tmp_path / "old"
    old.mkdir()
    scipy.io.savemat(old / "data.mat", {"M": ratings * observed, "Otraining": train.astype(float),
                                         "Otest": test.astype(float)})
    assert len(read_channel(old, "auto", None).ratings) == observed.sum()


@pytest.mark.parametrize("text, name", [
    ("user_id,item_id,rating,timestamp\n{rows}", "ratings.csv"),
    ("{rows}", "plain.csv"),
    ("userId\tmovieId\tscore\n{rows}", "ratings.tsv"),
])
def test_a_plain_ratings_file_with_or_without_a_header(tmp_path, text, name):
    rows, _, _ = planted_ratings()
    sep = "\t" if name.endswith(".tsv") else ","
    body = "".join(sep.join(map(str, row)) + (f"{sep}99" if "timestamp" in text else "") + "\n" for row in rows)
    directory = tmp_path / "mine"
    directory.mkdir()
    (directory / name).write_text(text.format(rows=body))
    assert detected(directory) == ["ratings_csv"]
    data = read_channel(directory, "auto", None)
    assert len(data.ratings) == len(rows) and data.scale == [1.0, 2.0, 4.0, 5.0]


def test_a_csv_without_rating_columns_lists_the_columns_it_found(tmp_path):
    directory = tmp_path / "mine"
    directory.mkdir()
    (directory / "data.csv").write_text("who,what,when\nann,book,monday\n")
    assert detected(directory) == []
    with pytest.raises(DataFormatError, match="no user, item and rating columns in the header \\(who, what, when\\)"):
        read_channel(directory, "ratings_csv", None)


# --- The model --------------------------------------------------------------------------------
def small_gcmc(**overrides):
    arguments = dict(num_users=4, num_items=3, levels=[1.0, 2.0, 3.0], user_feats=2, item_feats=2, hidden_size=6,
                     embedding_size=5, accumulation="stack", ordinal_weight_sharing=False, dropout=0.0, num_basis=2,
                     side_features=False, side_hidden_size=4)
    return create_model("gcmc", "rating_prediction", **{**arguments, **overrides}).eval()


def toy_graph(side_features=False):
    pairs = torch.tensor([[0, 0], [0, 1], [1, 1], [2, 2], [3, 0]])
    levels = torch.tensor([0, 2, 1, 2, 0])
    graph = rating_graph(pairs, levels, 4, 3, 3)
    if side_features:
        graph.nodes["user"].data["feat"] = torch.randn(4, 2)
        graph.nodes["item"].data["feat"] = torch.randn(3, 2)
    return graph, pairs, levels


def test_the_rating_graph_has_one_edge_type_per_level_and_symmetric_norms():
    graph, pairs, levels = toy_graph()
    assert graph.num_edges(level_etype(0)) == 2 and graph.num_edges(level_etype(2, reverse=True)) == 2
    assert graph.nodes["user"].data["norm"].flatten().tolist() == pytest.approx([2 ** -0.5, 1, 1, 1])
    assert graph.nodes["item"].data["norm"].flatten().tolist() == pytest.approx([2 ** -0.5, 2 ** -0.5, 1])


def test_the_encoder_and_decoder_compute_the_papers_formulas():
    torch.manual_seed(0)
    model = small_gcmc()
    graph, pairs, levels = toy_graph()
    users, items = model.encode(graph)
    # item 1 receives user 0 at level 2 and user 1 at level 1; stacked levels have 2 units each
    w = model.message_weights["user"]
    norm_u, norm_i = graph.nodes["user"].data["norm"][:, 0], graph.nodes["item"].data["norm"][:, 0]
    hidden = torch.zeros(3, 2)
    hidden[2] = w[2, 0] * norm_u[0] * norm_i[1]
    hidden[1] = w[1, 1] * norm_u[1] * norm_i[1]
    expected = model.dense["item"](torch.nn.functional.leaky_relu(hidden.flatten(), 0.1))
    assert torch.allclose(items[1], expected, atol=1e-6)
    # bilinear decoder: logit_r = sum_s a_rs u^T P_s v
    logits = model.decode(pair_graph(torch.tensor([2]), torch.tensor([1]), 4, 3), users, items)
    q = torch.einsum("rs,sde->rde", model.combine_bases.weight, model.bases)
    assert torch.allclose(logits[0], torch.einsum("d,rde,e->r", users[2], q, items[1]), atol=1e-5)


def test_ordinal_weight_sharing_sums_the_lower_levels():
    torch.manual_seed(0)
    shared = small_gcmc(ordinal_weight_sharing=True, accumulation="sum", hidden_size=2)
    plain = small_gcmc(ordinal_weight_sharing=False, accumulation="sum", hidden_size=2)
    plain.load_state_dict(shared.state_dict())
    with torch.no_grad():
        plain.message_weights["user"].copy_(torch.cumsum(shared.message_weights["user"], 0))
        plain.message_weights["item"].copy_(torch.cumsum(shared.message_weights["item"], 0))
    graph, _, _ = toy_graph()
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(shared.encode(graph), plain.encode(graph)))


def test_side_features_enter_the_embeddings():
    torch.manual_seed(0)
    model = small_gcmc(side_features=True)
    graph, _, _ = toy_graph(side_features=True)
    before = model.encode(graph)[0]
    graph.nodes["user"].data["feat"] += 1.0
    assert not torch.allclose(model.encode(graph)[0], before)


def test_stacking_needs_units_for_every_level():
    with pytest.raises(ValueError, match="hidden_size=5 over 3 rating levels"):
        small_gcmc(hidden_size=5)


# --- The task -------------------------------------------------------------------------------
def rating_task(directory, **values):
    hp = Hyperparameters.from_sagemaker({"model": "gcmc", **values})
    assert hp.common.task == "rating_prediction"
    data = read_channel(directory, "auto", None)
    return hp, TASKS.get("rating_prediction")(hp, data, {}, torch.device("cpu"))


def test_splits_the_files_fold_a_named_fold_or_random(tmp_path):
    directory = write_movielens_100k(tmp_path / "ml")
    _, task = rating_task(directory)
    assert task.split_name == "u1" and torch.equal(task.rows["test"], task.data.test_folds["u1"])
    rest = len(task.data.ratings) - len(task.rows["test"])
    assert len(task.rows["val"]) == round(0.1 * rest) and len(task.rows["train"]) == rest - len(task.rows["val"])
    _, task = rating_task(directory, split="random", test_fraction=0.25)
    assert len(task.rows["test"]) == round(0.25 * len(task.data.ratings))
    assert len(torch.cat(list(task.rows.values())).unique()) == len(task.data.ratings)
    with pytest.raises(ConfigError, match="split='u3': dataset 'ml' has no such split \\(its splits: u1\\)"):
        rating_task(directory, split="u3")
    (directory / "u.user").unlink()
    with pytest.raises(ConfigError, match="side_features=true, but dataset 'ml' has no side features for users"):
        rating_task(directory, side_features=True)


def test_gcmc_learns_planted_tastes_and_the_predictor_recommends_them(tmp_path):
    import sagemaker_dgl
    from sagemaker_dgl.artifacts import save

    directory = write_movielens_100k(tmp_path / "ml", num_users=60, num_items=40)
    hp, task = rating_task(directory, epochs=150, dropout=0.3, hidden_size=50, embedding_size=16,
                           early_stopping_patience=0)
    torch.manual_seed(0)
    model = create_model("gcmc", "rating_prediction", **task.model_sizes(), **hp.model.model_dump())
    Trainer(task, model, hp, None, "test").fit()
    model.eval()
    test = task.evaluate(model, "test")
    ratings = task.data.ratings[task.rows["test"]]
    baseline = (ratings - task.data.ratings[task.rows["train"]].mean()).pow(2).mean().sqrt().item()
    assert test["test_rmse"] < 0.6 * baseline, (test, baseline)
    config = {"task": "rating_prediction", "model": "gcmc", "model_args": {**task.model_sizes(), **hp.model.model_dump()}}
    save(tmp_path / "model", model, config, lambda folder: task.save_assets(model, folder))
    predictor = sagemaker_dgl.load_model(tmp_path / "model")
    _, user_group, item_group = planted_ratings(num_users=60, num_items=40)
    recommended = predictor.recommend("1", k=5)
    assert len(recommended) == 5 and all(item_group[int(r["item"]) - 1] == user_group[0] for r in recommended)
    rated = {(u, i) for u, i, _ in planted_ratings(num_users=60, num_items=40)[0] if u == 1}
    assert not rated & {(1, int(r["item"])) for r in recommended}
    liked, disliked = predictor.predict([("1", str(np.flatnonzero(item_group == user_group[0])[0] + 1)),
                                         ("1", str(np.flatnonzero(item_group != user_group[0])[0] + 1))])
    assert liked > 3.5 > 2.5 > disliked
    # the embeddings load with NumPy alone and reproduce the predictor
    users = np.load(tmp_path / "model" / "user_embeddings.npy")
    assert users.shape == (60, 16) and recommended[0]["name"].startswith("Movie ")
