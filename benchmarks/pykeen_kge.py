"""Baseline: PyKEEN's TransE, DistMult, ComplEx or RotatE on FB15k-237 (run it in benchmarks/.venv-pykeen).

Trains one PyKEEN model on FB15k-237 read from local files and evaluates it on the test split with
PyKEEN's own filtered, rank-based evaluator, as a reference for this package's link-prediction
task. It prints one JSON record and appends it to ``--out`` (JSON lines).

Set-up (CPU torch 2.13.0 first, then PyKEEN 1.11.1 with torch pinned; ``benchmarks/.venv*/`` is
git-ignored)::

    bash benchmarks/setup_pykeen.sh

Usage::

    benchmarks/.venv-pykeen/bin/python benchmarks/pykeen_kge.py --model complex --dim 200 --epochs 50 --threads 2
    # smoke test (seconds): a 2,000-triple training subset, 200 test triples
    OMP_NUM_THREADS=1 benchmarks/.venv-pykeen/bin/python benchmarks/pykeen_kge.py --model distmult --dim 8 \\
        --epochs 1 --max-train-triples 2000 --max-test-triples 200 --threads 1 --out /tmp/pykeen_smoke.jsonl

Data: ``--data`` (default ``../shared/data/fb15k-237`` relative to the repo root) holds
``train.txt``, ``valid.txt``, ``test.txt``: ``head<TAB>relation<TAB>tail`` with CRLF line endings
(stripped here). The entity and relation vocabularies are built from all three files (14,541
entities, 237 relations, ids in sorted label order), so every test triple can be ranked (9 valid
and 28 test triples have an entity that is not in train; their embeddings stay as initialised).
The splits become ``pykeen.triples.TriplesFactory`` objects over that shared vocabulary; PyKEEN's
dataset classes (which download) are not used.

The defaults are this package's configuration for its bilinear models (``BILINEAR_DEFAULTS``:
1vsall, Adagrad lr 0.1, batch 1000, N3 weight 0.05, 50 epochs) with ComplEx of 200 complex
dimensions; all but ``--init-std``, which keeps PyKEEN's initialisers unless given (see below).

What each option is in PyKEEN (1.11.1):

- ``--model``: ``pykeen.models.TransE`` / ``DistMult`` / ``ComplEx`` / ``RotatE``, with PyKEEN's
  default initialisers and constrainers: TransE and DistMult normalise entity embeddings to unit
  L2 norm after every step (``entity_constrainer=torch.nn.functional.normalize``; ``--entity-constrainer
  none`` removes it), RotatE projects relations to unit modulus (``complex_normalize``).
- ``--init-std``: unset keeps PyKEEN's initialisers (ComplEx: ``torch.nn.init.normal_``, N(0, 1)
  for every real and imaginary part; TransE, DistMult, RotatE entities: Xavier uniform; TransE,
  DistMult relations: Xavier uniform / normal scaled to unit norm; RotatE relations: uniform
  phases); a value passes ``entity_initializer`` and ``relation_initializer``
  = ``functools.partial(torch.nn.init.normal_, std=value)``, applied to the real view (real and
  imaginary parts alike), as this package initialises ComplEx with std 1e-3 (RotatE: entities
  only). It matters: ComplEx dim 32, 1vsall, Adagrad lr 0.1, N3 0.05, 2 epochs on a 30,000-triple
  subset reached test MRR 0.003 (near random) with PyKEEN's N(0, 1) and 0.15 with std 1e-3.
- ``--dim``: ``embedding_dim``. For ComplEx and RotatE PyKEEN makes ``embedding_dim`` complex
  numbers (``Embedding(shape=embedding_dim, dtype=torch.cfloat)``, stored as ``2 * embedding_dim``
  reals and viewed with ``torch.view_as_complex``), so ``--dim`` is the number of complex
  dimensions, as this package's ``embedding_dim`` is. For TransE and DistMult it is real dimensions.
- ``--p-norm``: TransE's ``scoring_fct_norm`` (score ``-||h + r - t||_p``). RotatE keeps PyKEEN's
  interaction ``-||h * r - t||_2`` over the complex vector (the paper sums the moduli, an L1).
- ``--training 1vsall``: ``pykeen.training.LCWATrainingLoop`` (tail prediction, PyKEEN's default
  target) on a training factory with ``create_inverse_triples=True``: every triple (h, r, t) also
  gives (t, r_inv, h), the instances are the unique (h, r) pairs of both directions with the
  multi-hot vector of their true tails, and head prediction at test time is tail prediction with
  the inverse relation. Loss: ``pykeen.losses.CrossEntropyLoss`` (softmax over all entities
  against the multi-hot labels normalised to sum to 1), the only loss accepted here.
- ``--training negative_sampling``: ``pykeen.training.SLCWATrainingLoop`` with
  ``pykeen.sampling.BasicNegativeSampler(num_negs_per_pos=--num-negatives)`` (uniform, unfiltered;
  half of the negatives of a batch corrupt the head, half the tail), no inverse triples, and
  ``--loss``: ``softmax`` = ``CrossEntropyLoss`` (softmax over the positive and its negatives),
  ``nssa`` = ``NSSALoss(margin=--margin, adversarial_temperature=--adversarial-temperature)``
  (self-adversarial negative sampling, Sun et al. 2019), ``margin`` =
  ``MarginRankingLoss(margin=--margin)``, ``bce`` = ``BCEWithLogitsLoss``. ``--margin`` unset keeps
  PyKEEN's default (NSSA 9.0, margin ranking 1.0); the record has the value used.
- ``--epochs``, ``--batch-size``: ``TrainingLoop.train(num_epochs=, batch_size=)``, with
  ``automatic_memory_optimization=False`` (no batch-size probing) and ``use_tqdm=False``. For
  1vsall a batch is ``--batch-size`` (h, r) pairs, for negative sampling ``--batch-size`` triples.
- ``--optimizer``, ``--lr``: ``torch.optim.Adam`` / ``torch.optim.Adagrad`` over
  ``model.get_grad_params()``.
- ``--regularizer``, ``--regularization-weight``: the model's ``regularizer=`` and
  ``regularizer_kwargs=``. ``n3`` = ``pykeen.regularizers.PowerSumRegularizer(p=3,
  normalize=False)``, ``l2`` = ``PowerSumRegularizer(p=2, normalize=False)``: weight x the mean over
  the looked-up rows of ``sum_k |x_k|^p`` (``|x_k|`` the modulus for complex embeddings, hence N3
  of Lacroix et al. 2018), summed over every lookup in a training step. Not
  ``LpRegularizer(p=3)``: that is the L3 norm ``(sum_k |x_k|^3)^(1/3)``, not its cube. ``none``
  passes ``regularizer=None``, which also switches off the defaults PyKEEN would otherwise apply
  (ComplEx: ``LpRegularizer(weight=0.01, p=2, normalize=True)`` on entities and relations;
  DistMult: ``LpRegularizer(weight=0.1, p=2, normalize=True)`` on relations). Where PyKEEN
  applies it: ComplEx and TransE entities and relations, DistMult relations only, RotatE
  entities only (its relations have unit modulus). Which rows are regularised follows PyKEEN's
  lookups: in 1vsall the batch's heads and relations and *all* entities (every entity is a tail
  candidate of every query); in negative sampling the heads, relations and tails of the positive
  and of the negative triples.
- ``--seed``: ``pykeen.utils.set_random_seed`` and the model's ``random_seed``.
- ``--threads``: ``torch.set_num_threads``.
- Evaluation: ``pykeen.evaluation.RankBasedEvaluator(filtered=True)`` on the test triples, head
  and tail prediction (``targets=("head", "tail")``, reported as side ``both``), filtered with
  ``additional_filter_triples=[train, valid]`` (PyKEEN adds the evaluated test triples to the
  filter itself; the full test split is passed too, so that a ``--max-test-triples`` subset is
  filtered like the full run), ``--eval-batch-size`` queries at a time. Ties use the ``realistic`` rank,
  the mean of the optimistic and pessimistic ranks. Keys: ``test_mrr``
  (``both.realistic.inverse_harmonic_mean_rank``), ``test_mr`` (``arithmetic_mean_rank``),
  ``test_hits@1`` / ``@3`` / ``@10`` (``hits_at_k``).

The record: the arguments, pykeen and torch versions, threads, dataset sizes, ``train_seconds``
(wall time of ``TrainingLoop.train``, including its re-initialisation of the weights and the
building of the training instances), ``epoch_seconds`` (per epoch, from a training callback),
``train_triples_per_second`` = training triples x epochs / train_seconds, where training triples
are the original ones (272,115 for the full split) *without* the inverse triples of 1vsall
(``triples_per_second_counts_inverse: false``; ``pykeen_instances_per_epoch`` says what PyKEEN
iterated over), ``eval_seconds``, the final epoch's loss and the test metrics.
"""
import argparse
import functools
import json
import logging
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

import pykeen
from pykeen.evaluation import RankBasedEvaluator
from pykeen.losses import BCEWithLogitsLoss, CrossEntropyLoss, MarginRankingLoss, NSSALoss
from pykeen.models import ComplEx, DistMult, RotatE, TransE
from pykeen.regularizers import PowerSumRegularizer
from pykeen.sampling import BasicNegativeSampler
from pykeen.training import LCWATrainingLoop, SLCWATrainingLoop
from pykeen.training.callbacks import TrainingCallback
from pykeen.triples import TriplesFactory
from pykeen.utils import set_random_seed

REPO = Path(__file__).resolve().parent.parent
MODELS = {"transe": TransE, "distmult": DistMult, "complex": ComplEx, "rotate": RotatE}
#: Models with PyKEEN's default entity constrainer (unit L2 norm after every step).
ENTITY_CONSTRAINED = ("transe", "distmult")
#: What PyKEEN's model class regularises with its ``regularizer=`` argument.
REGULARISED = {"transe": "entities and relations", "distmult": "relations", "complex": "entities and relations",
               "rotate": "entities"}
METRICS = {"test_mrr": "inverse_harmonic_mean_rank", "test_mr": "arithmetic_mean_rank",
           "test_hits@1": "hits_at_1", "test_hits@3": "hits_at_3", "test_hits@10": "hits_at_10"}


def read_triples(path):
    """The ``head<TAB>relation<TAB>tail`` lines of ``path`` (CRLF or LF) as a list of 3-lists of labels."""
    rows = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    bad = [i + 1 for i, row in enumerate(rows) if len(row) != 3]
    if bad:
        raise SystemExit(f"{path}: lines {bad[:5]} do not have 3 tab-separated fields")
    return rows


def load(data, max_train, max_test, create_inverse_triples):
    """Train/valid/test ``TriplesFactory`` over one vocabulary built from the three files.

    ``max_train`` / ``max_test`` (smoke tests) keep a random subset (numpy seed 0, whatever
    ``--seed``) of the training / test triples; ``full_train`` and ``full_test`` always have all
    of them, for the evaluation filter."""
    splits = {name: read_triples(data / f"{name}.txt") for name in ("train", "valid", "test")}
    every = [row for rows in splits.values() for row in rows]
    entity_to_id = {label: i for i, label in enumerate(sorted({h for h, _, _ in every} | {t for _, _, t in every}))}
    relation_to_id = {label: i for i, label in enumerate(sorted({r for _, r, _ in every}))}

    def factory(rows, inverse=False):
        ids = torch.as_tensor([(entity_to_id[h], relation_to_id[r], entity_to_id[t]) for h, r, t in rows],
                              dtype=torch.long)
        return TriplesFactory(mapped_triples=ids, entity_to_id=entity_to_id, relation_to_id=relation_to_id,
                              create_inverse_triples=inverse)

    def subset(rows, n, rng):
        if not n or n >= len(rows):
            return rows
        return [rows[i] for i in np.sort(rng.permutation(len(rows))[:n])]

    rng = np.random.default_rng(0)
    train_rows = subset(splits["train"], max_train, rng)
    test_rows = subset(splits["test"], max_test, rng)
    full_train = factory(splits["train"])
    return dict(train=factory(train_rows, create_inverse_triples), full_train=full_train,
                valid=factory(splits["valid"]), test=factory(test_rows), full_test=factory(splits["test"]))


def make_loss(args):
    """1vsall: CrossEntropyLoss (``main`` rejects any other ``--loss``); negative sampling: ``--loss``."""
    loss = "softmax" if args.training == "1vsall" else args.loss or "softmax"
    margin = {} if args.margin is None else dict(margin=args.margin)
    if loss == "softmax":
        return CrossEntropyLoss()
    if loss == "nssa":
        return NSSALoss(adversarial_temperature=args.adversarial_temperature, **margin)
    if loss == "margin":
        return MarginRankingLoss(**margin)
    return BCEWithLogitsLoss()


def make_model(args, train, loss):
    kwargs = dict(triples_factory=train, embedding_dim=args.dim, loss=loss, random_seed=args.seed)
    if args.model == "transe":
        kwargs["scoring_fct_norm"] = args.p_norm
    if args.init_std is not None:
        init = functools.partial(torch.nn.init.normal_, std=args.init_std)
        kwargs["entity_initializer"] = init
        if args.model != "rotate":  # RotatE keeps its uniform phases for the unit-modulus relations
            kwargs["relation_initializer"] = init
    if args.entity_constrainer == "none" and args.model in ENTITY_CONSTRAINED:
        kwargs["entity_constrainer"] = None
    if args.regularizer == "none":
        kwargs["regularizer"] = None  # also disables ComplEx's and DistMult's default LpRegularizer
    else:
        kwargs["regularizer"] = PowerSumRegularizer
        kwargs["regularizer_kwargs"] = dict(weight=args.regularization_weight, p=3 if args.regularizer == "n3" else 2,
                                            normalize=False)
    return MODELS[args.model](**kwargs)


class EpochTimer(TrainingCallback):
    """Wall time of every epoch (from the previous epoch's end, or from ``start``, to this one's)."""

    def __init__(self):
        super().__init__()
        self.start = None
        self.seconds = []

    def post_epoch(self, epoch, epoch_loss, **kwargs):
        now = time.perf_counter()
        self.seconds.append(now - self.start)
        self.start = now


def instances_per_epoch(args, train):
    """How many training instances PyKEEN iterates over in one epoch, and what they are."""
    mapped = train._add_inverse_triples_if_necessary(train.mapped_triples)
    if args.training == "1vsall":
        pairs = np.unique(mapped[:, :2].numpy(), axis=0).shape[0]
        return pairs, "unique (head, relation) pairs of the training triples and of their inverses (tail, relation_inv)"
    return mapped.shape[0], "training triples (no inverse triples), each with --num-negatives negatives"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "fb15k-237",
                        help="folder with train.txt, valid.txt, test.txt (default ../shared/data/fb15k-237)")
    parser.add_argument("--model", choices=sorted(MODELS), default="complex")
    parser.add_argument("--dim", type=int, default=200,
                        help="embedding_dim: real dimensions (TransE, DistMult), complex dimensions (ComplEx, RotatE)")
    parser.add_argument("--p-norm", type=int, default=1, help="TransE: scoring_fct_norm")
    parser.add_argument("--entity-constrainer", choices=("pykeen", "none"), default="pykeen",
                        help="TransE, DistMult: keep PyKEEN's unit-norm entity constrainer, or none")
    parser.add_argument("--init-std", type=float, default=None,
                        help="N(0, std^2) initialisation of every real component (default: PyKEEN's initialisers)")
    parser.add_argument("--training", choices=("1vsall", "negative_sampling"), default="1vsall")
    parser.add_argument("--num-negatives", type=int, default=256, help="negative_sampling: negatives per positive")
    parser.add_argument("--loss", choices=("softmax", "nssa", "margin", "bce"), default=None,
                        help="negative_sampling loss (default softmax); 1vsall always uses softmax")
    parser.add_argument("--margin", type=float, default=None, help="nssa, margin: the margin (default: PyKEEN's)")
    parser.add_argument("--adversarial-temperature", type=float, default=1.0, help="nssa: the temperature alpha")
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--optimizer", choices=("adam", "adagrad"), default="adagrad")
    parser.add_argument("--regularizer", choices=("none", "n3", "l2"), default="n3")
    parser.add_argument("--regularization-weight", type=float, default=0.05)
    parser.add_argument("--eval-batch-size", type=int, default=256, help="test queries scored at a time")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)")
    parser.add_argument("--max-train-triples", type=int, default=None,
                        help="smoke tests: train on a random subset (the vocabulary and the filter stay full)")
    parser.add_argument("--max-test-triples", type=int, default=None, help="smoke tests: a random test subset")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "pykeen_kge.jsonl",
                        help="JSON-lines file the record is appended to")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("pykeen").setLevel(logging.WARNING)  # pykeen's modules log at INFO otherwise
    # torch_max_mem warns that it sees CPU tensors; the evaluation batch size is fixed anyway
    logging.getLogger("torch_max_mem").setLevel(logging.ERROR)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.training == "1vsall" and args.loss not in (None, "softmax"):
        parser.error(f"--training 1vsall uses the softmax cross-entropy, not --loss {args.loss}")

    t0 = time.perf_counter()
    data = load(args.data, args.max_train_triples, args.max_test_triples, args.training == "1vsall")
    load_seconds = time.perf_counter() - t0
    train = data["train"]

    set_random_seed(args.seed)
    loss = make_loss(args)
    model = make_model(args, train, loss)
    optimizer_cls = torch.optim.Adam if args.optimizer == "adam" else torch.optim.Adagrad
    optimizer = optimizer_cls(params=model.get_grad_params(), lr=args.lr)
    loop_kwargs = dict(model=model, triples_factory=train, optimizer=optimizer, automatic_memory_optimization=False)
    if args.training == "1vsall":
        loop = LCWATrainingLoop(**loop_kwargs)
    else:
        loop = SLCWATrainingLoop(negative_sampler=BasicNegativeSampler,
                                 negative_sampler_kwargs=dict(num_negs_per_pos=args.num_negatives), **loop_kwargs)

    timer = EpochTimer()
    timer.start = t1 = time.perf_counter()
    losses = loop.train(triples_factory=train, num_epochs=args.epochs, batch_size=args.batch_size, use_tqdm=False,
                        use_tqdm_batch=False, callbacks=[timer], pin_memory=False)
    train_seconds = time.perf_counter() - t1

    evaluator = RankBasedEvaluator(filtered=True)
    t2 = time.perf_counter()
    results = evaluator.evaluate(model=model, mapped_triples=data["test"].mapped_triples,
                                 additional_filter_triples=[data["full_train"].mapped_triples,
                                                            data["valid"].mapped_triples,
                                                            data["full_test"].mapped_triples],
                                 batch_size=args.eval_batch_size, use_tqdm=False, targets=("head", "tail"))
    eval_seconds = time.perf_counter() - t2

    instances, instances_kind = instances_per_epoch(args, train)
    record = dict(
        implementation="pykeen",
        args={k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        versions=dict(pykeen=pykeen.get_version(), torch=torch.__version__, python=platform.python_version()),
        threads=torch.get_num_threads(),
        pykeen_model=type(model).__name__,
        pykeen_training_loop=type(loop).__name__,
        pykeen_loss=type(loss).__name__,
        margin=getattr(loss, "margin", None),
        regularizer=(None if args.regularizer == "none" else
                     f"PowerSumRegularizer(p={3 if args.regularizer == 'n3' else 2}, normalize=False, "
                     f"weight={args.regularization_weight}) on {REGULARISED[args.model]}"),
        create_inverse_triples=train.create_inverse_triples,
        num_entities=train.num_entities,
        num_relations=train.real_num_relations,
        parameters=sum(p.numel() for p in model.get_grad_params()),
        train_triples=train.num_triples,
        valid_triples=data["valid"].num_triples,
        test_triples=data["test"].num_triples,
        pykeen_instances_per_epoch=instances,
        pykeen_instances=instances_kind,
        load_seconds=load_seconds,
        train_seconds=train_seconds,
        epoch_seconds=timer.seconds,
        train_triples_per_second=train.num_triples * args.epochs / train_seconds,
        triples_per_second_counts_inverse=False,
        final_loss=losses[-1] if losses else None,
        eval_seconds=eval_seconds,
        rank="realistic (mean of optimistic and pessimistic)",
        **{key: results.get_metric(f"both.realistic.{name}") for key, name in METRICS.items()},
    )
    line = json.dumps(record)
    print(line, flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("a") as f:
        f.write(line + "\n")


if __name__ == "__main__":
    sys.exit(main())
