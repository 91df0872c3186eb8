"""notebooks/gcn_cora.ipynb runs end to end in SageMaker local mode against the CPU image.

Parameters are injected papermill-style: a cell after the one tagged `parameters`.
"""
import re

import pytest

from tests.container.conftest import ROOT, remove_compose_containers, require_module

pytestmark = pytest.mark.container
NOTEBOOK = ROOT / "notebooks" / "gcn_cora.ipynb"


def test_committed_notebook_has_the_outputs_of_a_run():
    nbformat = require_module("nbformat", "the project's test extra")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.get("outputs", [])]
    assert not [output for output in outputs if output.output_type == "error"]
    assert sum("image/png" in output.get("data", {}) for output in outputs) >= 2, "learning curves shown"
    assert "test accuracy of the loaded model" in "".join(output.get("text", "") for output in outputs)


def test_notebook_runs_in_local_mode(docker_client, cpu_image, cora_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("SAGEMAKER_SUPPRESS_V2_WARNING", "1")  # the kernel inherits it too
    nbformat = require_module("nbformat", "the project's test extra")
    require_module("nbclient", "the project's test extra")
    require_module("ipykernel", "the project's test extra")
    require_module("sagemaker", "pip install sagemaker==2.257.7 (the project's test extra)")
    from nbclient import NotebookClient

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    index = next(i for i, cell in enumerate(notebook.cells) if "parameters" in cell.metadata.get("tags", []))
    work_dir = tmp_path / "notebook"
    values = {"local_mode": True, "image_uri": cpu_image, "data_dir": str(cora_dir), "work_dir": str(work_dir)}
    injected = nbformat.v4.new_code_cell("\n".join(f"{key} = {value!r}" for key, value in values.items()),
                                         metadata={"tags": ["injected-parameters"]})
    notebook.cells.insert(index + 1, injected)
    try:
        NotebookClient(notebook, timeout=1200, kernel_name="python3",
                       resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    finally:
        remove_compose_containers(docker_client, work_dir / "local")
    text = "".join(output.get("text", "") for cell in notebook.cells for output in cell.get("outputs", []))
    match = re.search(r"test accuracy of the loaded model: (\d\.\d+) \(job reported (\d\.\d+)\)", text)
    assert match, text[-3000:]
    assert float(match.group(1)) >= 0.80 and abs(float(match.group(1)) - float(match.group(2))) <= 0.005
    assert (work_dir / "output" / "data" / "learning_curves.png").exists()
