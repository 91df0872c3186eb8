"""The notebooks run end to end in SageMaker local mode against the CPU image.

Parameters are injected papermill-style: a cell after the one tagged `parameters`. Each notebook
prints one line with the result of its loaded model, checked against the job's own figure.
"""
import re
from dataclasses import dataclass

import pytest

from tests.conftest import dataset_dir
from tests.container.conftest import ROOT, remove_compose_containers, require_module

pytestmark = pytest.mark.container


@dataclass(frozen=True)
class Notebook:
    file: str
    dataset: str
    result: str  # regex of the printed result line: (the loaded model's figure) ... (the job's)
    threshold: float  # the loaded model's figure is at least this (at most, for an error such as RMSE)
    images: int  # PNG outputs the committed run shows at least
    higher_is_better: bool = True


NOTEBOOKS = [
    Notebook("gcn_cora.ipynb", "cora",
             r"test accuracy of the loaded model: (\d\.\d+) \(job reported (\d\.\d+)\)", 0.80, 2),
    Notebook("kge_freebase.ipynb", "fb15k-237",
             r"filtered test ranking, both directions: MRR (\d\.\d+)", 0.248, 1),
    Notebook("rgcn_entity_classification.ipynb", "aifb",
             r"test accuracy of the loaded model: (\d\.\d+) \(job reported (\d\.\d+)\)", 0.90, 2),
    Notebook("gcmc_movielens.ipynb", "ml-100k",
             r"test RMSE of the loaded model: (\d\.\d+) \(job reported (\d\.\d+)\)", 0.96, 2,
             higher_is_better=False),
    Notebook("gcn_tox21.ipynb", "tox21",
             r"mean test ROC-AUC of the loaded model: (\d\.\d+) \(job reported (\d\.\d+)\)", 0.75, 2),
    # local mode has no tuning jobs: one trial, its objective read with the tuner's own regex
    Notebook("hpo_tox21.ipynb", "tox21",
             r"objective the tuner reads: (\d\.\d+) \(the job's kept epoch \d+: val_roc_auc (\d\.\d+)\)", 0.65, 1),
]


def outputs_text(notebook) -> str:
    return "".join(output.get("text", "") for cell in notebook.cells if cell.cell_type == "code"
                   for output in cell.get("outputs", []))


def check_result(spec: Notebook, text: str) -> None:
    match = re.search(spec.result, text)
    assert match, text[-3000:]
    value = float(match.group(1))
    assert value >= spec.threshold if spec.higher_is_better else value <= spec.threshold, match.group(0)
    if match.re.groups == 2:  # the loaded model reproduces the job's figure
        assert abs(float(match.group(1)) - float(match.group(2))) <= 0.005, match.group(0)


@pytest.mark.parametrize("spec", NOTEBOOKS, ids=lambda spec: spec.file)
def test_committed_notebook_has_the_outputs_of_a_run(spec):
    nbformat = require_module("nbformat", "the project's test extra")
    notebook = nbformat.read(ROOT / "notebooks" / spec.file, as_version=4)
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.get("outputs", [])]
    assert not [output for output in outputs if output.output_type == "error"]
    assert sum("image/png" in output.get("data", {}) for output in outputs) >= spec.images, "plots shown"
    check_result(spec, outputs_text(notebook))


@pytest.mark.parametrize("spec", NOTEBOOKS, ids=lambda spec: spec.file)
def test_notebook_runs_in_local_mode(docker_client, cpu_image, tmp_path, monkeypatch, spec):
    monkeypatch.setenv("SAGEMAKER_SUPPRESS_V2_WARNING", "1")  # the kernel inherits it too
    nbformat = require_module("nbformat", "the project's test extra")
    require_module("nbclient", "the project's test extra")
    require_module("ipykernel", "the project's test extra")
    require_module("sagemaker", "pip install sagemaker==2.257.7 (the project's test extra)")
    from nbclient import NotebookClient

    notebook = nbformat.read(ROOT / "notebooks" / spec.file, as_version=4)
    index = next(i for i, cell in enumerate(notebook.cells) if "parameters" in cell.metadata.get("tags", []))
    work_dir = tmp_path / "notebook"
    values = {"local_mode": True, "image_uri": cpu_image, "data_dir": str(dataset_dir(spec.dataset)),
              "work_dir": str(work_dir)}
    injected = nbformat.v4.new_code_cell("\n".join(f"{key} = {value!r}" for key, value in values.items()),
                                         metadata={"tags": ["injected-parameters"]})
    notebook.cells.insert(index + 1, injected)
    try:
        NotebookClient(notebook, timeout=1200, kernel_name="python3",
                       resources={"metadata": {"path": str(ROOT / "notebooks")}}).execute()
    finally:
        remove_compose_containers(docker_client, work_dir / "local")
    check_result(spec, outputs_text(notebook))
    assert (work_dir / "output" / "data" / "learning_curves.png").exists()
