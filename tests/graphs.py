"""Small generated data for tests: DGL's CSV dataset format, knowledge-graph triples, MovieLens-style ratings."""
from pathlib import Path

import numpy as np


def write_csv_graph(directory: Path, num_nodes: int = 120, num_classes: int = 3, masks: bool = True,
                    seed: int = 0, labels=None, feature_size: int = 8) -> Path:
    """A planted-partition graph whose labels are learnable from features and edges.

    Nodes of class c link mostly to class c; features are noisy one-hot class indicators.
    """
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    label = rng.integers(0, num_classes, num_nodes) if labels is None else np.asarray(labels)
    features = rng.normal(0, 1.0, (num_nodes, feature_size))
    features[np.arange(num_nodes), label % feature_size] += 2.0
    src, dst = [], []
    for node in range(num_nodes):
        same = np.flatnonzero(label == label[node])
        for other in rng.choice(same, 3):
            src.append(node)
            dst.append(int(other))
        src.append(node)
        dst.append(int(rng.integers(0, num_nodes)))
    (directory / "meta.yaml").write_text(
        "dataset_name: generated\nedge_data:\n- file_name: edges.csv\nnode_data:\n- file_name: nodes.csv\n"
    )
    rows = ["node_id,label,feat" + (",train_mask,val_mask,test_mask" if masks else "")]
    split = rng.permutation(num_nodes)
    train, val = set(split[: num_nodes // 2]), set(split[num_nodes // 2 : 3 * num_nodes // 4])
    for node in range(num_nodes):
        feat = ", ".join(f"{value:.4f}" for value in features[node])
        row = f'{node},{label[node]},"{feat}"'
        if masks:
            row += f",{node in train},{node in val},{node not in train and node not in val}"
        rows.append(row)
    (directory / "nodes.csv").write_text("\n".join(rows) + "\n")
    (directory / "edges.csv").write_text("src_id,dst_id\n" + "\n".join(f"{s},{d}" for s, d in zip(src, dst)) + "\n")
    return directory


def write_triples(directory: Path, num_entities: int = 60, seed: int = 0, line_end: str = "\n") -> Path:
    """A learnable knowledge graph in the triples layout (train/valid/test.txt), 80/10/10.

    Relations ``next`` (i -> i+1) and its inverse ``prev``, ``group`` (i -> one of five group
    entities g0..g4) and its inverse ``member``, and the symmetric ``pair`` (2k <-> 2k+1): most
    test triples have their inverse in training.
    """
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    entities = [f"e{i}" for i in range(num_entities)]
    triples = set()
    for i in range(num_entities):
        following, group = entities[(i + 1) % num_entities], f"g{i % 5}"
        triples |= {(entities[i], "next", following), (following, "prev", entities[i]),
                    (entities[i], "group", group), (group, "member", entities[i]),
                    (entities[i], "pair", entities[i + 1 if i % 2 == 0 else i - 1])}
    triples = sorted(triples)
    order = rng.permutation(len(triples))
    cut = [int(0.8 * len(triples)), int(0.9 * len(triples))]
    parts = {"train": order[: cut[0]], "valid": order[cut[0] : cut[1]], "test": order[cut[1] :]}
    for name, rows in parts.items():
        text = "".join("\t".join(triples[row]) + line_end for row in sorted(rows))
        (directory / f"{name}.txt").write_text(text, newline="")
    return directory


def planted_ratings(num_users: int = 40, num_items: int = 30, density: float = 0.5, seed: int = 0):
    """Learnable ratings: users and items fall into two taste groups; a user rates an item of
    their group 4 or 5 and one of the other group 1 or 2. Returns (user, item, rating) rows,
    1-based ids, and the groups of users and items."""
    rng = np.random.default_rng(seed)
    user_group, item_group = rng.integers(0, 2, num_users), rng.integers(0, 2, num_items)
    rows = []
    for user in range(num_users):
        for item in np.flatnonzero(rng.random(num_items) < density):
            liked = user_group[user] == item_group[item]
            rows.append((user + 1, int(item) + 1, int(rng.integers(4, 6) if liked else rng.integers(1, 3))))
    return rows, user_group, item_group


def write_movielens_100k(directory: Path, test_fraction: float = 0.2, seed: int = 0, **sizes) -> Path:
    """:func:`planted_ratings` in MovieLens 100K's layout: u.data, u.user, u.item and a u1.test split."""
    rows, user_group, item_group = planted_ratings(seed=seed, **sizes)
    directory.mkdir(parents=True, exist_ok=True)
    line = "{}\t{}\t{}\t8812509{:02d}\n"
    (directory / "u.data").write_text("".join(line.format(u, i, r, k % 100) for k, (u, i, r) in enumerate(rows)))
    test = np.random.default_rng(seed + 1).random(len(rows)) < test_fraction
    (directory / "u1.test").write_text("".join(line.format(u, i, r, 0) for (u, i, r), t in zip(rows, test) if t))
    occupations = ("writer", "engineer")
    (directory / "u.user").write_text("".join(f"{u + 1}|{20 + u % 30}|{'MF'[g]}|{occupations[g]}|0{u:04d}\n"
                                              for u, g in enumerate(user_group)))
    genres = lambda g: "|".join("1" if k == g else "0" for k in range(19))  # noqa: E731
    (directory / "u.item").write_text("".join(f"{i + 1}|Movie {i + 1} (19{70 + i % 30})|01-Jan-19{70 + i % 30}||"
                                              f"http://example.org/{i + 1}|{genres(g)}\n"
                                              for i, g in enumerate(item_group)))
    return directory


def cycles_and_paths(num_graphs: int = 80, seed: int = 0):
    """Undirected cycles (class 1) and paths (class 0) of 5-12 nodes, alternating: (edges, classes).
    Featureless: only the structure tells them apart (a path has two nodes of degree 1)."""
    rng = np.random.default_rng(seed)
    graphs = []
    for index in range(num_graphs):
        size, cycle = int(rng.integers(5, 13)), index % 2 == 1
        pairs = [(i, i + 1) for i in range(size - 1)] + ([(size - 1, 0)] if cycle else [])
        graphs.append((size, pairs, int(cycle)))
    return graphs


def write_tu(directory: Path, name: str = "CYCLES", num_graphs: int = 80, seed: int = 0, node_labels: bool = False) -> Path:
    """:func:`cycles_and_paths` in the TU format: both directions of each edge, 1-based ids, classes -1/1."""
    directory.mkdir(parents=True, exist_ok=True)
    edges, indicator, labels, node_label_lines = [], [], [], []
    offset = 0
    for graph_id, (size, pairs, cycle) in enumerate(cycles_and_paths(num_graphs, seed), 1):
        for u, v in pairs:
            edges += [f"{u + offset + 1}, {v + offset + 1}", f"{v + offset + 1}, {u + offset + 1}"]
        indicator += [str(graph_id)] * size
        node_label_lines += [str(i % 3) for i in range(size)]
        labels.append("1" if cycle else "-1")
        offset += size
    (directory / f"{name}_A.txt").write_text("\n".join(edges) + "\n")
    (directory / f"{name}_graph_indicator.txt").write_text("\n".join(indicator) + "\n")
    (directory / f"{name}_graph_labels.txt").write_text("\n".join(labels) + "\n")
    if node_labels:
        (directory / f"{name}_node_labels.txt").write_text("\n".join(node_label_lines) + "\n")
    return directory


def write_dgl_graphs(directory: Path, num_graphs: int = 80, seed: int = 0, labels=None) -> Path:
    """:func:`cycles_and_paths` as DGL graphs (both directions, ``ndata['feat']`` of ones) in a
    ``dgl.save_graphs`` file, with their classes (or ``labels``) under 'labels'."""
    import dgl
    import torch

    directory.mkdir(parents=True, exist_ok=True)
    graphs, classes = [], []
    for size, pairs, cycle in cycles_and_paths(num_graphs, seed):
        src = [u for u, v in pairs] + [v for u, v in pairs]
        dst = [v for u, v in pairs] + [u for u, v in pairs]
        graph = dgl.graph((torch.tensor(src), torch.tensor(dst)), num_nodes=size)
        graph.ndata["feat"] = torch.ones(size, 2)
        graphs.append(graph)
        classes.append(cycle)
    dgl.save_graphs(str(directory / "graphs.bin"), graphs,
                    {"labels": torch.tensor(classes) if labels is None else labels})
    return directory


def write_csv_graphs(directory: Path, num_graphs: int = 80, seed: int = 0) -> Path:
    """:func:`cycles_and_paths` in DGL's multi-graph CSV format: graphs.csv (graph_id, label),
    nodes.csv (graph_id, node_id, feat), edges.csv (graph_id, src_id, dst_id; both directions)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "meta.yaml").write_text("dataset_name: cycles\nedge_data:\n- file_name: edges.csv\nnode_data:\n"
                                         "- file_name: nodes.csv\ngraph_data:\n  file_name: graphs.csv\n")
    graphs, nodes, edges = ["graph_id,label"], ["graph_id,node_id,feat"], ["graph_id,src_id,dst_id"]
    for graph_id, (size, pairs, cycle) in enumerate(cycles_and_paths(num_graphs, seed)):
        graphs.append(f"{graph_id},{cycle}")
        nodes += [f'{graph_id},{node},"1.0, 1.0"' for node in range(size)]
        edges += [f"{graph_id},{u},{v}" for a, b in pairs for u, v in ((a, b), (b, a))]
    for name, rows in (("graphs.csv", graphs), ("nodes.csv", nodes), ("edges.csv", edges)):
        (directory / name).write_text("\n".join(rows) + "\n")
    return directory
