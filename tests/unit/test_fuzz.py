"""Property-based fuzzing: hyperparameter parsing and each data format's reader, on generated and
mutated input. Every outcome is a valid job set-up or a clear, bounded error (a
SageMakerDGLError under 1024 characters); never another exception, a hang or a crash.

CI runs a bounded number of examples (``FUZZ_EXAMPLES``, default 150 / 40 / 25); a longer run:
``FUZZ_EXAMPLES=5000 .venv/bin/pytest tests/unit/test_fuzz.py``.
"""
import functools
import json
import os
import random
import shutil
import tempfile
from pathlib import Path

import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sagemaker_dgl.config import CommonHyperparameters, Hyperparameters
from sagemaker_dgl.data import read_channel
from sagemaker_dgl.errors import SageMakerDGLError
from sagemaker_dgl.models import MODELS
from sagemaker_dgl.tasks import TASKS
from tests.conftest import dataset_dir
from tests.graphs import write_csv_graph

SCALE = int(os.environ.get("FUZZ_EXAMPLES", "0")) or None
FUZZ = dict(deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))


def examples(default: int) -> int:
    return SCALE or default


def known_keys():
    keys = set(CommonHyperparameters.model_fields)
    for task in TASKS.values():
        keys |= set(task.hyperparameters.model_fields)
    for spec in MODELS.specs():
        keys |= set(spec.hyperparameters.model_fields)
    return sorted(keys)


VALUES = st.one_of(
    st.text(max_size=12),
    st.integers(-10**6, 10**6).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["true", "False", "null", "[]", "{}", '"gcn"', "1,2", "-1", "1e309", "NaN", "[1, [2]]",
                     '{"name": "gcn"}', "gat", "GraphSAGE", "cora", "planetoid", "auto", "step", "sgd"]),
    st.lists(st.integers(-3, 30), max_size=4).map(json.dumps),
)
KEYS = st.one_of(st.sampled_from(known_keys()), st.text(min_size=1, max_size=10),
                 st.sampled_from(["sagemaker_progam", "sagemaker_program", "learning_rate", "Model", "n_epochs"]))


def assert_clear(error: Exception) -> None:
    assert isinstance(error, SageMakerDGLError), f"{type(error).__name__}: {error}"
    message = str(error)
    assert message and len(message) < 1024 and "Traceback" not in message


@settings(max_examples=examples(150), **FUZZ)
@given(st.dictionaries(KEYS, VALUES, max_size=6))
def test_hyperparameter_parsing_never_crashes(raw):
    try:
        hp = Hyperparameters.from_sagemaker(raw)
    except Exception as error:  # noqa: BLE001 - the property under test
        assert_clear(error)
        return
    json.dumps(hp.resolved(), allow_nan=False)


def build_task(directory: Path):
    """Read a channel and set up node classification on it, as a job does."""
    hp = Hyperparameters.from_sagemaker({})
    data = read_channel(directory, "auto", None)
    return TASKS.get("node_classification")(hp, data, {}, torch.device("cpu"))


def mutate_text(text: str, rng: random.Random) -> str:
    lines = text.splitlines()
    kind = rng.choice(["cell", "drop_column", "extra_column", "truncate", "ragged", "blank", "swap_header"])
    row = rng.randrange(len(lines))
    if kind == "cell":
        cells = lines[row].split(",")
        cells[rng.randrange(len(cells))] = rng.choice(["", "nan", "x", "-1", "999999", "1.5", '"', "True", "inf"])
        lines[row] = ",".join(cells)
    elif kind == "drop_column":
        index = rng.randrange(len(lines[0].split(",")))
        lines = [",".join(c for i, c in enumerate(line.split(",")) if i != index) for line in lines]
    elif kind == "extra_column":
        lines = [line + ("," + rng.choice(["note", "a b", "7"])) for line in lines]
    elif kind == "truncate":
        return text[: rng.randrange(len(text) + 1)]
    elif kind == "ragged":
        lines[row] = lines[row].replace('"', '"0.5, ', 1)
    elif kind == "blank":
        lines[row] = ""
    else:
        lines[0] = lines[0].replace("src_id", "source").replace("label", "class")
    return "\n".join(lines) + "\n"


@settings(max_examples=examples(40), **FUZZ)
@given(st.integers(0, 2**32 - 1), st.sampled_from(["nodes.csv", "edges.csv", "meta.yaml"]),
       st.integers(1, 3))
def test_csv_reader_on_mutated_files(seed, target, mutations):
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as folder:
        directory = write_csv_graph(Path(folder) / "g", num_nodes=30, masks=rng.random() < 0.5, seed=seed % 100)
        path = directory / target
        text = path.read_text()
        for _ in range(mutations):
            text = mutate_text(text, rng)
        path.write_text(text)
        try:
            build_task(directory)
        except Exception as error:  # noqa: BLE001
            assert_clear(error)


@functools.lru_cache(maxsize=1)
def cora_files():
    return {path.name: path.read_bytes() for path in dataset_dir("cora").glob("ind.cora.*")}


@settings(max_examples=examples(25), **FUZZ)
@given(seed=st.integers(0, 2**32 - 1))
def test_planetoid_reader_on_mutated_files(seed):
    cora_bytes = cora_files()
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder)
        for name, content in cora_bytes.items():
            (directory / name).write_bytes(content)
        name = rng.choice(sorted(cora_bytes))
        content = bytearray(cora_bytes[name])
        kind = rng.choice(["truncate", "flip", "garbage", "empty", "remove"])
        if kind == "truncate":
            content = content[: rng.randrange(len(content))]
        elif kind == "flip":
            for _ in range(rng.randint(1, 8)):
                content[rng.randrange(len(content))] = rng.randrange(256)
        elif kind == "garbage":
            content = bytearray(rng.randbytes(rng.randint(1, 200)))
        elif kind == "empty":
            content = bytearray()
        if kind == "remove":
            (directory / name).unlink()
        else:
            (directory / name).write_bytes(bytes(content))
        try:
            build_task(directory)
        except Exception as error:  # noqa: BLE001
            assert_clear(error)
        shutil.rmtree(directory, ignore_errors=True)
