"""Build-time check of the image: PyTorch and DGL load together and pass messages.

DGL wheels are built per PyTorch and CUDA version; a mismatched pair fails at ``import dgl``, or
imports but cannot run a kernel. The Dockerfile runs this script after installing DGL and again
at the end, so such an image fails to build instead of failing in a training job.

    python build_check.py --cuda 12.4 --exact-torch-match   # GPU variant
    python build_check.py --cuda none                       # CPU variant
    python build_check.py ... --package                     # also: this package and `train`
"""
import argparse
import importlib.metadata
import os
import shutil
import sys

os.environ.setdefault("DGLBACKEND", "pytorch")


def fail(message: str) -> None:
    print(f"build check FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def message_passing(device: str) -> None:
    """One update_all (copy_u + sum) and one GraphConv forward/backward on a 3-node cycle."""
    import dgl
    import dgl.function as fn
    import torch
    from dgl.nn import GraphConv

    graph = dgl.graph(([0, 1, 2], [1, 2, 0])).to(device)
    graph.ndata["h"] = torch.tensor([[1.0], [2.0], [4.0]], device=device)
    graph.update_all(fn.copy_u("h", "m"), fn.sum("m", "out"))
    expected = torch.tensor([[4.0], [1.0], [2.0]], device=device)
    if not torch.equal(graph.ndata["out"], expected):
        fail(f"update_all on {device} gave {graph.ndata['out'].tolist()}, expected {expected.tolist()}")
    conv = GraphConv(1, 2).to(device)
    conv(graph, graph.ndata["h"]).sum().backward()
    if conv.weight.grad is None or not torch.isfinite(conv.weight.grad).all():
        fail(f"GraphConv backward on {device} gave no finite gradient")


def check_versions(cuda: str, exact_torch_match: bool) -> str:
    import dgl
    import torch
    from dgl._ffi import base

    dgl_version = importlib.metadata.version("dgl")
    if cuda == "none":
        if torch.version.cuda is not None:
            fail(f"CPU variant, but torch {torch.__version__} is a CUDA {torch.version.cuda} build")
        if "+cu" in dgl_version:
            fail(f"CPU variant, but dgl {dgl_version} is a CUDA build")
    else:
        if torch.version.cuda != cuda:
            fail(f"expected a CUDA {cuda} build of torch, got torch {torch.__version__} (CUDA {torch.version.cuda})")
        suffix = "+cu" + cuda.replace(".", "")
        if not dgl_version.endswith(suffix):
            fail(f"expected dgl built for CUDA {cuda} (version ending {suffix}), got dgl {dgl_version}")
    minor = ".".join(torch.__version__.split("+")[0].split(".")[:2])
    if exact_torch_match and not base.is_tensor_adaptor_enabled():
        fail(
            f"dgl {dgl_version} has no tensoradapter for torch {torch.__version__}: this DGL wheel was built "
            f"for another PyTorch version (use the DGL wheel index for torch-{minor})"
        )
    return (f"torch {torch.__version__} (CUDA {torch.version.cuda}), dgl {dgl_version} "
            f"(tensoradapter {'on' if base.is_tensor_adaptor_enabled() else 'off'}), dgl.__version__ {dgl.__version__}")


#: Libraries the tasks import only when they run (RDF parsing for entity classification, MATLAB
#: files for rating prediction, ROC-AUC and molecules for graph prediction).
TASK_LIBRARIES = ("rdflib", "h5py", "sklearn", "dgllife", "rdkit")


def check_package() -> None:
    """This package and the tasks' libraries import, and `train` on PATH is its console script,
    not the toolkit's."""
    import importlib

    import sagemaker_dgl.data  # noqa: F401
    import sagemaker_dgl.models  # noqa: F401
    import sagemaker_dgl.tasks  # noqa: F401

    for name in TASK_LIBRARIES:
        try:
            importlib.import_module(name)
        except ImportError as error:
            fail(f"{name} does not import ({error}); it is a dependency in pyproject.toml")

    train = shutil.which("train")
    if train is None:
        fail("no `train` command on PATH")
    with open(train) as handle:
        script = handle.read()
    if "sagemaker_dgl.cli" not in script:
        fail(f"{train} is not sagemaker_dgl.cli:train (sagemaker-training's own `train` won?):\n{script}")
    if os.path.exists("/opt/ml"):
        fail("/opt/ml exists in the image; SageMaker mounts it at run time")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cuda", required=True, help="CUDA version torch and DGL must be built for, or 'none'")
    parser.add_argument("--exact-torch-match", action="store_true",
                        help="require DGL's tensoradapter for exactly this torch version")
    parser.add_argument("--package", action="store_true", help="also check sagemaker_dgl and the train command")
    args = parser.parse_args()

    import torch

    summary = check_versions(args.cuda, args.exact_torch_match)
    message_passing("cpu")
    if torch.cuda.is_available():  # no GPU at build time on most builders: the CUDA path runs in the job
        message_passing("cuda")
    if args.package:
        check_package()
    print(f"build check ok: {summary}; message passing on cpu"
          f"{' and cuda' if torch.cuda.is_available() else ''}")


if __name__ == "__main__":
    main()
