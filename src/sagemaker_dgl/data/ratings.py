"""Ratings of items by users (rating prediction, GCMC): MovieLens's three layouts, the matrix
completion benchmark files of Monti et al., and a plain CSV.

| format            | files in the channel                                          | ratings           |
|-------------------|---------------------------------------------------------------|-------------------|
| movielens_100k    | ``u.data`` (user TAB item TAB rating TAB time); optional      | integers 1-5      |
|                   | ``u.user``, ``u.item``, and the splits ``u1.test`` ... ``ub.test`` |              |
| movielens_dat     | ``ratings.dat`` (``UserID::MovieID::Rating::Timestamp``, ML-1M | 0.5-5 in halves  |
|                   | and ML-10M); optional ``users.dat``, ``movies.dat``            |                   |
| movielens_csv     | ``ratings.csv`` (``userId,movieId,rating,timestamp``) and     | 0.5-5 in halves   |
|                   | ``movies.csv`` (ml-latest, ml-25m, ml-32m)                    |                   |
| matrix_completion | ``training_test_dataset.mat``: ``M``, ``Otraining``, ``Otest``, | the values of M |
|                   | optional ``W_users``, ``W_movies``/``W_tracks`` (Douban, Flixster, YahooMusic) |  |
| ratings_csv       | one ``.csv``/``.tsv`` with user, item and rating columns (named | numeric         |
|                   | in a header, e.g. ``user_id,item_id,rating``, or the first three; others ignored) |  |

A rating that is not a number, or off the format's scale, fails with its file and line; so does a
second rating of the same (user, item). The levels of ``ratings_csv`` and ``matrix_completion``
are the distinct values found (at most :data:`MAX_LEVELS`: GCMC gives each level an edge type).

Side features, where the files have them: MovieLens users' age, gender and occupation (and
ML-1M's age group), items' genres and release year; the .mat files' user and item graphs (each
row of ``W`` is a node's feature vector, as GCMC's loader does). MovieLens 100K's own splits
(``u1`` ... ``u5``, ``ua``, ``ub``) become ``test_folds``, ``u1`` first (the canonical one);
a .mat file's ``Otest`` is fold ``'test'``.

| dataset         | users  | items  | ratings    | source                             |
|-----------------|--------|--------|------------|------------------------------------|
| ml-100k         | 943    | 1,682  | 100,000    | GroupLens (SHA-256 from TensorFlow Datasets' checksums) |
| ml-1m           | 6,040  | 3,706  | 1,000,209  | GroupLens                          |
| ml-latest-small | 610    | 9,724  | 100,836    | GroupLens                          |
"""
import csv
import io
import logging
import re
from functools import partial
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch

from ..errors import DataFormatError
from ._base import Dataset, RatingData, first_line, register_dataset, register_format
from .download import download, extract_flat

logger = logging.getLogger(__name__)

#: GCMC has one edge type per rating level; more levels than this is a continuous score.
MAX_LEVELS = 100
HALF_STARS = [x / 2 for x in range(1, 11)]
#: MovieLens 100K's own splits, canonical first.
MOVIELENS_100K_FOLDS = ("u1", "u2", "u3", "u4", "u5", "ua", "ub")
OCCUPATIONS_1M = 21
AGE_GROUPS_1M = (1, 18, 25, 35, 45, 50, 56)
#: Column names of the plain CSV, compared lower-case without punctuation.
USER_COLUMNS = ("user", "userid", "users", "uid", "customer", "customerid", "reviewer", "reviewerid")
ITEM_COLUMNS = ("item", "itemid", "items", "iid", "movie", "movieid", "product", "productid", "asin", "track",
                "trackid", "book", "bookid", "isbn")
RATING_COLUMNS = ("rating", "ratings", "score", "stars", "value", "overall")
#: GroupLens archives: URL, SHA-256 (tensorflow/datasets url_checksums/movielens.txt), format.
ARCHIVES: Dict[str, Tuple[str, str, str]] = {
    "ml-100k": ("https://files.grouplens.org/datasets/movielens/ml-100k.zip",
                "50d2a982c66986937beb9ffb3aa76efe955bf3d5c6b761f4e3a7cd717c6a3229", "movielens_100k"),
    "ml-1m": ("https://files.grouplens.org/datasets/movielens/ml-1m.zip",
              "a6898adb50b9ca05aa231689da44c217cb524e7ebd39d264c56e2832f2c54e20", "movielens_dat"),
    "ml-latest-small": ("https://files.grouplens.org/datasets/movielens/ml-latest-small.zip",
                        "696d65a3dfceac7c45750ad32df2c259311949efec81f0f144fdfb91ebc9e436", "movielens_csv"),
}


# --- Shared parsing -------------------------------------------------------------------------
def _read_table(path: Path, sep: str, names: Sequence[str], header: bool = False, encoding: str = "latin-1",
                required: int = 3):
    """The file's rows as strings, indexed by line number (1-based); blank lines dropped. Without
    a header the columns are ``names`` and the first ``required`` must be filled."""
    try:
        text = path.read_text(encoding=encoding)
    except OSError as error:
        raise DataFormatError(f"cannot read {path.name}: {error}") from None
    if len(sep) > 1:  # '::': the C parser takes one character
        text = text.replace(sep, "\x1f")
        sep = "\x1f"
    try:
        table = pd.read_csv(io.StringIO(text), sep=sep, header=0 if header else None, dtype=str,
                            skip_blank_lines=False, keep_default_na=False, quoting=csv.QUOTE_NONE if sep != "," else 0,
                            on_bad_lines="error", engine="c", names=None if header else range(len(names)),
                            usecols=None if header else range(len(names)))
    except (pd.errors.ParserError, ValueError) as error:
        raise DataFormatError(f"{path.name}: {error}; expected {sep!r}-separated {', '.join(names)}") from None
    table = table.fillna("")
    table.index = table.index + (2 if header else 1)
    blank = (table == "").all(axis=1)
    table = table[~blank]
    if table.empty:
        raise DataFormatError(f"{path.name} is empty; it must hold {', '.join(names)} rows")
    if not header:
        table.columns = list(names)
        missing = table[list(names)[:required]].eq("").any(axis=1)
        if missing.any():
            line = int(missing.idxmax())
            raise DataFormatError(f"{path.name} line {line}: fewer than {required} {sep!r}-separated fields; each line "
                                  f"must be {sep.join(names)}")
    return table


def _numbers(values: pd.Series, file: str, what: str) -> np.ndarray:
    """``values`` as float32; the first that is not a number fails with its line."""
    numbers = pd.to_numeric(values.str.strip(), errors="coerce")
    bad = numbers.isna() | ~np.isfinite(numbers)
    if bad.any():
        line = int(bad.idxmax())
        raise DataFormatError(f"{file} line {line}: {what} {values[line]!r} is not a number")
    return numbers.to_numpy(np.float32)


def _check_scale(ratings: np.ndarray, lines: np.ndarray, scale: Sequence[float], file: str, described: str) -> None:
    off = ~np.isin(ratings, np.asarray(scale, dtype=np.float32))
    if off.any():
        index = int(np.argmax(off))
        raise DataFormatError(f"{file} line {lines[index]}: rating {ratings[index]:g} is outside the scale of "
                              f"{described} ({', '.join(f'{v:g}' for v in scale)})")


def _levels(ratings: np.ndarray, file: str) -> List[float]:
    levels = np.unique(ratings).tolist()
    if len(levels) > MAX_LEVELS:
        raise DataFormatError(f"{file}: {len(levels)} distinct ratings; GCMC gives each rating level its own edge "
                              f"type, so at most {MAX_LEVELS} levels: round the ratings (e.g. to halves)")
    return levels


def _vocabulary(ids: np.ndarray) -> Tuple[np.ndarray, List[str]]:
    """Codes of ``ids`` and the distinct ids (numerically sorted when all are integers)."""
    ids = np.char.strip(ids.astype(str))
    distinct = np.unique(ids)
    if all(value.lstrip("-").isdigit() for value in distinct):
        distinct = distinct[np.argsort(distinct.astype(np.int64), kind="stable")]
    lookup = pd.Index(distinct)
    return lookup.get_indexer(ids).astype(np.int64), distinct.tolist()


def _ratings(table: pd.DataFrame, file: str, users: str, items: str, rating: str) -> Dict:
    """Codes, ratings and line numbers of a ratings table; a repeated (user, item) fails."""
    values = _numbers(table[rating], file, "rating")
    user_codes, user_ids = _vocabulary(table[users].to_numpy())
    item_codes, item_ids = _vocabulary(table[items].to_numpy())
    lines = table.index.to_numpy()
    keys = pd.Series(user_codes * len(item_ids) + item_codes)
    repeated = keys.duplicated()
    if repeated.any():
        index = int(np.argmax(repeated.to_numpy()))
        first = lines[int(np.argmax(keys.to_numpy() == keys[index]))]
        raise DataFormatError(f"{file} line {lines[index]}: user {user_ids[user_codes[index]]} rates item "
                              f"{item_ids[item_codes[index]]} again (first at line {first}); keep one rating per pair")
    return {"pairs": np.stack([user_codes, item_codes], 1), "ratings": values, "lines": lines,
            "users": user_ids, "items": item_ids}


def _movielens_ratings(path: Path, sep: str, scale: Sequence[float], described: str) -> Dict:
    """A headerless ``user, item, rating, timestamp`` file of MovieLens, its ratings on ``scale``."""
    table = _read_table(path, sep, ("user", "item", "rating", "timestamp"))
    parsed = _ratings(table, path.name, "user", "item", "rating")
    _check_scale(parsed["ratings"], parsed["lines"], scale, path.name, described)
    return parsed


def _aligned(features: Dict[str, np.ndarray], ids: List[str], file: str) -> Optional[torch.Tensor]:
    """Rows of ``features`` (id -> vector) for ``ids``; None when an id has none (logged)."""
    missing = [i for i in ids if i not in features]
    if missing:
        logger.warning("%s has no row for %d rated id(s) (e.g. %s); side features are not used", file, len(missing),
                       missing[0])
        return None
    return torch.from_numpy(np.stack([features[i] for i in ids]).astype(np.float32))


def _one_hot(values: Sequence, categories: Sequence) -> np.ndarray:
    index = {c: i for i, c in enumerate(categories)}
    out = np.zeros((len(values), len(categories)), dtype=np.float32)
    for row, value in enumerate(values):
        if value in index:
            out[row, index[value]] = 1.0
    return out


def _year(text: str) -> float:
    """Release year from '01-Jan-1995' or 'Toy Story (1995)'; NaN when absent."""
    found = re.findall(r"(1[89]\d\d|20\d\d)", text or "")
    return float(found[-1]) if found else float("nan")


def _scaled_years(years: np.ndarray) -> np.ndarray:
    """Years to [0, 1] over their range; unknown years get the mean."""
    known = years[~np.isnan(years)]
    if known.size == 0:
        return np.zeros_like(years)
    years = np.where(np.isnan(years), known.mean(), years)
    return (years - known.min()) / max(known.max() - known.min(), 1.0)


def _container(parsed: Dict, scale: List[float], name: str, folds=None, user_features=None, item_features=None,
               item_names=None, info=None) -> RatingData:
    data = RatingData(pairs=torch.from_numpy(parsed["pairs"]), ratings=torch.from_numpy(parsed["ratings"]),
                      users=parsed["users"], items=parsed["items"], scale=scale, name=name, test_folds=folds or {},
                      user_features=user_features, item_features=item_features, item_names=item_names or {},
                      info=info or {})
    logger.info("ratings: %d users, %d items, %d ratings on %s levels; splits in the files: %s; side features: "
                "users %s, items %s", len(data.users), len(data.items), len(data.ratings), len(scale),
                ", ".join(data.test_folds) or "none",
                "none" if user_features is None else user_features.shape[1],
                "none" if item_features is None else item_features.shape[1])
    return data


# --- MovieLens 100K ---------------------------------------------------------------------------
@register_format("movielens_100k", detect=lambda d: (Path(d) / "u.data").is_file(),
                 expects="u.data (user<TAB>item<TAB>rating<TAB>timestamp), optional u.user, u.item, u1.test ... ub.test",
                 produces=RatingData)
def load_movielens_100k(directory: Path, name: Optional[str] = None) -> RatingData:
    """MovieLens 100K's files: its ratings, side features and own splits."""
    directory = Path(directory)
    parsed = _movielens_ratings(directory / "u.data", "\t", [1, 2, 3, 4, 5], "MovieLens 100K")
    folds = {}
    for fold in MOVIELENS_100K_FOLDS:
        if (directory / f"{fold}.test").is_file():
            folds[fold] = _fold_rows(directory / f"{fold}.test", parsed)
    users = items = None
    names = {}
    if (directory / "u.user").is_file():
        users = _movielens_100k_users(directory / "u.user", parsed["users"])
    if (directory / "u.item").is_file():
        items, names = _movielens_100k_items(directory / "u.item", parsed["items"])
    return _container(parsed, [1.0, 2.0, 3.0, 4.0, 5.0], name or directory.name, folds, users, items, names,
                      {"files": "u.data"})


def _fold_rows(path: Path, parsed: Dict) -> torch.Tensor:
    """The rows of u.data that a split's test file lists; a pair not in u.data fails."""
    table = _read_table(path, "\t", ("user", "item", "rating", "timestamp"))
    users, items = pd.Index(parsed["users"]), pd.Index(parsed["items"])
    user_codes = users.get_indexer(table["user"].str.strip())
    item_codes = items.get_indexer(table["item"].str.strip())
    keys = pd.Index(parsed["pairs"][:, 0] * len(items) + parsed["pairs"][:, 1])
    rows = np.where((user_codes >= 0) & (item_codes >= 0), keys.get_indexer(user_codes * len(items) + item_codes), -1)
    if (rows < 0).any():
        index = int(np.argmax(rows < 0))
        line = table.index[index]
        raise DataFormatError(f"{path.name} line {line}: user {table['user'][line]} and item {table['item'][line]} "
                              "are not a rating in u.data; the split files must list ratings of u.data")
    return torch.from_numpy(rows.astype(np.int64))


def _movielens_100k_users(path: Path, ids: List[str]) -> Optional[torch.Tensor]:
    """Age (over the oldest), gender and occupation (one-hot) of each user."""
    table = _read_table(path, "|", ("user", "age", "gender", "occupation", "zip"), required=4)
    ages = _numbers(table["age"], path.name, "age")
    occupations = sorted(set(table["occupation"]))
    vectors = np.concatenate([(ages / ages.max())[:, None], (table["gender"] == "M").to_numpy(np.float32)[:, None],
                              _one_hot(table["occupation"].tolist(), occupations)], 1)
    return _aligned(dict(zip(table["user"].str.strip(), vectors)), ids, path.name)


def _movielens_100k_items(path: Path, ids: List[str]) -> Tuple[Optional[torch.Tensor], Dict[str, str]]:
    """The 19 genre flags and the scaled release year of each movie, and the titles."""
    genres = [f"genre{i}" for i in range(19)]
    table = _read_table(path, "|", ("item", "title", "release", "video", "url", *genres), required=1)
    flags = table[genres].replace("", "0").astype(np.float32).to_numpy()
    years = _scaled_years(np.array([_year(text) for text in table["release"]]))
    vectors = np.concatenate([flags, years[:, None].astype(np.float32)], 1)
    ids_in_file = table["item"].str.strip()
    return _aligned(dict(zip(ids_in_file, vectors)), ids, path.name), dict(zip(ids_in_file, table["title"]))


# --- MovieLens 1M / 10M ------------------------------------------------------------------------
@register_format("movielens_dat", detect=lambda d: (Path(d) / "ratings.dat").is_file(),
                 expects="ratings.dat (UserID::MovieID::Rating::Timestamp), optional users.dat, movies.dat",
                 produces=RatingData)
def load_movielens_dat(directory: Path, name: Optional[str] = None) -> RatingData:
    """MovieLens 1M and 10M's ``::``-separated files."""
    directory = Path(directory)
    parsed = _movielens_ratings(directory / "ratings.dat", "::", HALF_STARS, "MovieLens (0.5 to 5 in halves)")
    users = items = None
    names = {}
    if (directory / "users.dat").is_file():
        users_table = _read_table(directory / "users.dat", "::", ("user", "gender", "age", "occupation", "zip"),
                                  required=4)
        ages = _numbers(users_table["age"], "users.dat", "age")
        occupations = _numbers(users_table["occupation"], "users.dat", "occupation")
        vectors = np.concatenate([(users_table["gender"] == "M").to_numpy(np.float32)[:, None],
                                  _one_hot(ages.tolist(), AGE_GROUPS_1M),
                                  _one_hot(occupations.astype(int).tolist(), range(OCCUPATIONS_1M))], 1)
        users = _aligned(dict(zip(users_table["user"].str.strip(), vectors)), parsed["users"], "users.dat")
    if (directory / "movies.dat").is_file():
        movies = _read_table(directory / "movies.dat", "::", ("item", "title", "genres"), required=1)
        items, names = _genre_features(movies, parsed["items"], "movies.dat")
    return _container(parsed, _levels(parsed["ratings"], "ratings.dat"), name or directory.name, None, users, items,
                      names, {"files": "ratings.dat"})


def _genre_features(movies: pd.DataFrame, ids: List[str], file: str) -> Tuple[Optional[torch.Tensor], Dict[str, str]]:
    """Genre flags ('Action|Comedy') and the scaled year in the title, and the titles."""
    genre_lists = [text.split("|") for text in movies["genres"]]
    genres = sorted({g for genres in genre_lists for g in genres} - {"(no genres listed)"})
    flags = np.stack([_one_hot(g, genres).sum(0) for g in genre_lists]) if genres else np.zeros((len(movies), 0))
    years = _scaled_years(np.array([_year(title) for title in movies["title"]]))
    vectors = np.concatenate([flags, years[:, None]], 1).astype(np.float32)
    ids_in_file = movies["item"].str.strip()
    return _aligned(dict(zip(ids_in_file, vectors)), ids, file), dict(zip(ids_in_file, movies["title"]))


# --- MovieLens current (CSV) -----------------------------------------------------------------
@register_format("movielens_csv",
                 detect=lambda d: (Path(d) / "ratings.csv").is_file() and (Path(d) / "movies.csv").is_file(),
                 expects="ratings.csv (userId,movieId,rating,timestamp) and movies.csv (movieId,title,genres)",
                 produces=RatingData)
def load_movielens_csv(directory: Path, name: Optional[str] = None) -> RatingData:
    """MovieLens's current layout (ml-latest, ml-latest-small, ml-25m, ml-32m)."""
    directory = Path(directory)
    table = _read_table(directory / "ratings.csv", ",", ("userId", "movieId", "rating"), header=True, encoding="utf-8")
    for column in ("userId", "movieId", "rating"):
        if column not in table.columns:
            raise DataFormatError(f"ratings.csv has no column {column!r} (columns: {', '.join(table.columns)})")
    parsed = _ratings(table, "ratings.csv", "userId", "movieId", "rating")
    _check_scale(parsed["ratings"], parsed["lines"], HALF_STARS, "ratings.csv", "MovieLens (0.5 to 5 in halves)")
    movies = _read_table(directory / "movies.csv", ",", ("movieId", "title", "genres"), header=True, encoding="utf-8")
    movies = movies.rename(columns={"movieId": "item"})
    items, names = _genre_features(movies, parsed["items"], "movies.csv")
    return _container(parsed, _levels(parsed["ratings"], "ratings.csv"), name or directory.name, None, None, items,
                      names, {"files": "ratings.csv"})


# --- Matrix completion benchmarks (.mat) -----------------------------------------------------
def _mat_files(directory: Path) -> List[Path]:
    return sorted(Path(directory).glob("*.mat"))


@register_format("matrix_completion", detect=lambda d: len(_mat_files(d)) == 1,
                 expects="one .mat file (MATLAB) with M, Otraining, Otest, optional W_users, W_movies or W_tracks",
                 produces=RatingData)
def load_matrix_completion(directory: Path, name: Optional[str] = None) -> RatingData:
    """Monti et al.'s ``training_test_dataset.mat`` (Douban, Flixster, YahooMusic), read as GCMC's
    loader reads it: dense matrices transposed (MATLAB is column-major), sparse ones as CSC."""
    files = _mat_files(directory)
    if len(files) != 1:
        raise DataFormatError(f"expected one .mat file in {directory}, found {len(files)}")
    path = files[0]
    fields = _read_mat(path)
    for key in ("M", "Otraining", "Otest"):
        if key not in fields:
            raise DataFormatError(f"{path.name} has no matrix {key!r} (it has: {', '.join(sorted(fields))}); expected "
                                  "M (ratings), Otraining and Otest (observation masks)")
    ratings_matrix = _dense(fields["M"])
    train, test = (_dense(fields[key]) != 0 for key in ("Otraining", "Otest"))
    if train.shape != ratings_matrix.shape or test.shape != ratings_matrix.shape:
        raise DataFormatError(f"{path.name}: M is {ratings_matrix.shape} but Otraining is {train.shape} and Otest "
                              f"{test.shape}; they must have the same shape")
    observed = train | test
    rows, cols = np.nonzero(observed)
    values = ratings_matrix[rows, cols].astype(np.float32)
    is_test = test[rows, cols]
    if (values == 0).any():
        raise DataFormatError(f"{path.name}: {int((values == 0).sum())} observed entries of M are 0; a rating must be "
                              "non-zero where Otraining or Otest is set")
    users = [str(i) for i in range(ratings_matrix.shape[0])]
    items = [str(i) for i in range(ratings_matrix.shape[1])]
    parsed = {"pairs": np.stack([rows, cols], 1).astype(np.int64), "ratings": values, "users": users, "items": items}
    user_features = _graph_features(fields.get("W_users"), len(users))
    item_features = _graph_features(fields.get("W_movies", fields.get("W_tracks")), len(items))
    folds = {"test": torch.from_numpy(np.nonzero(is_test)[0].astype(np.int64))}
    return _container(parsed, _levels(values, path.name), name or path.stem, folds, user_features, item_features,
                      info={"files": path.name})


def _read_mat(path: Path) -> Dict[str, object]:
    """The matrices of a MATLAB file: v7.3 (HDF5) through h5py, older versions through SciPy."""
    import h5py
    import scipy.io

    if h5py.is_hdf5(path):
        fields = {}
        with h5py.File(path, "r") as handle:
            for key, value in handle.items():
                if isinstance(value, h5py.Group) and "ir" in value:  # sparse: CSC arrays, rows in MATLAB_sparse
                    rows, columns = np.asarray(value["ir"]), np.asarray(value["jc"])
                    shape = (int(value.attrs.get("MATLAB_sparse", rows.max(initial=-1) + 1)), len(columns) - 1)
                    fields[key] = sp.csc_matrix((np.asarray(value["data"]), rows, columns), shape=shape)
                elif isinstance(value, h5py.Dataset):
                    fields[key] = np.asarray(value).T
        return fields
    try:
        return {key: value for key, value in scipy.io.loadmat(path).items() if not key.startswith("__")}
    except (ValueError, NotImplementedError, OSError) as error:
        raise DataFormatError(f"{path.name} is not a MATLAB file that can be read: {error}") from None


def _dense(matrix) -> np.ndarray:
    return np.asarray(matrix.todense() if sp.issparse(matrix) else matrix, dtype=np.float32)


def _graph_features(matrix, size: int) -> Optional[torch.Tensor]:
    """A side graph's adjacency rows as node features (None without a graph of the right size)."""
    if matrix is None:
        return None
    dense = _dense(matrix)
    if dense.shape != (size, size):
        logger.warning("side graph of shape %s does not fit %d nodes; side features are not used", dense.shape, size)
        return None
    return torch.from_numpy(dense)


# --- A plain ratings CSV ----------------------------------------------------------------------
def _table_files(directory: Path) -> List[Path]:
    return sorted(p for p in Path(directory).iterdir() if p.is_file() and p.suffix.lower() in (".csv", ".tsv"))


def _normalised(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _columns(header: List[str]) -> Optional[Tuple[int, int, int]]:
    """Positions of the user, item and rating columns among ``header``'s names, or None."""
    names = [_normalised(h) for h in header]
    found = []
    for candidates in (USER_COLUMNS, ITEM_COLUMNS, RATING_COLUMNS):
        position = next((i for i, n in enumerate(names) if n in candidates), None)
        if position is None:
            return None
        found.append(position)
    return tuple(found)


def _first_row(path: Path) -> Tuple[str, List[str]]:
    line = first_line(path)
    sep = "\t" if path.suffix.lower() == ".tsv" or ("\t" in line and "," not in line) else ","
    return sep, [field.strip().strip('"') for field in line.split(sep)]


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def _detect_ratings_csv(directory: Path) -> bool:
    files = _table_files(directory)
    if len(files) != 1 or (Path(directory) / "meta.yaml").is_file() or (Path(directory) / "movies.csv").is_file():
        return False
    _, first = _first_row(files[0])
    return _columns(first) is not None or (len(first) >= 3 and _is_number(first[2]))


@register_format("ratings_csv", detect=_detect_ratings_csv,
                 expects="one .csv or .tsv of user, item, rating (a header such as user_id,item_id,rating, or none)",
                 produces=RatingData)
def load_ratings_csv(directory: Path, name: Optional[str] = None) -> RatingData:
    """One CSV (or TSV) of ratings; the header names the columns, or the first three are user, item, rating."""
    files = _table_files(directory)
    if len(files) != 1:
        raise DataFormatError(f"the ratings_csv format reads one .csv or .tsv file; {directory} has {len(files)}")
    path = files[0]
    sep, first = _first_row(path)
    positions = _columns(first)
    if positions is None and not (len(first) >= 3 and _is_number(first[2])):
        raise DataFormatError(f"{path.name}: no user, item and rating columns in the header ({', '.join(first)}); "
                              f"name them (user: {USER_COLUMNS[0]}/{USER_COLUMNS[1]}, item: {ITEM_COLUMNS[0]}/"
                              f"{ITEM_COLUMNS[1]}/movie_id, rating: {RATING_COLUMNS[0]}/score) or put them first")
    if positions is None:
        table = _read_table(path, sep, ("user", "item", "rating"), encoding="utf-8")
        columns = ("user", "item", "rating")
    else:
        table = _read_table(path, sep, first, header=True, encoding="utf-8")
        columns = tuple(table.columns[p] for p in positions)
    parsed = _ratings(table, path.name, *columns)
    return _container(parsed, _levels(parsed["ratings"], path.name), name or path.stem, info={"files": path.name})


# --- Named datasets ---------------------------------------------------------------------------
def download_movielens(name: str, directory: Path) -> None:
    """Fetch GroupLens's archive (SHA-256 checked) and extract its files into ``directory``."""
    url, checksum, _ = ARCHIVES[name]
    directory = Path(directory)
    extract_flat(download(url, directory / url.rsplit("/", 1)[1], checksum), directory)


for _name, (_url, _, _format) in ARCHIVES.items():
    register_dataset(Dataset(_name, RatingData, source=_url, format=_format, download=partial(download_movielens, _name)))
