"""Deep generative model of graphs (DGMG).

Li, Vinyals, Dyer, Pascanu & Battaglia, "Learning Deep Generative Models of Graphs", 2018,
https://arxiv.org/abs/1803.03324 (DGL: examples/pytorch/dgmg; DGL-LifeSci: ``dgllife.model.DGMG``,
whose layers this uses).

A graph is built by a sequence of decisions, each conditioned on the graph so far: add a node
(of a type) or stop; then, for the new node, add an edge (of a type) or stop, and for each edge
choose its other end among the earlier nodes. Before each decision, :math:`T`
(``num_prop_rounds``) rounds of message passing update the node states,

.. math::  h_v \\leftarrow \\mathrm{GRU}\\Big(h_v, \\sum_{u \\in \\mathcal{N}(v)} f_t(h_u, h_v, x_{uv})\\Big),

and the graph state is the gated sum :math:`h_G = \\sum_v \\sigma(g(h_v)) \\odot f(h_v)`. Add-node
and add-edge are softmax classifiers over :math:`h_G` (and the new node's state); the destination
is a softmax over the scores :math:`s(h_u, h_{new})` of the earlier nodes. Training maximises the
log-likelihood of the decisions that build each training graph in its node order (teacher
forcing); sampling draws each decision.

Message passing runs as :func:`propagate_over_edges`, not DGL-LifeSci's ``GraphProp.forward``: the
same sum, over an edge list with one ``index_add``, where the library's Python reduce function
makes DGL bucket nodes by degree on every call (about half of a training step on these small,
growing graphs; a test checks that both give the same log-likelihood).

Graphs here are ``networkx.MultiGraph`` objects with nodes ``0..n-1`` in generation order and a
``type`` on each node and edge (an index: a molecule's atom and bond types); the decisions for a graph add its nodes in that order and, for each node, its edges to earlier nodes
from the nearest one back (a cycle: the previous node, then the first), as DGL's example does.
"""
import types
from typing import List, Optional, Tuple

import networkx as nx
import torch
from torch import nn

from ..config.groups import HyperparameterGroup, hyperparameter
from ._registry import register_model

ADD_NODE, ADD_EDGE, CHOOSE_DESTINATION = 0, 1, 2


class DGMGHyperparameters(HyperparameterGroup):
    """DGMG's node states and message passing."""

    hidden_size: int = hyperparameter(16, "Node state size.", gt=0)
    num_prop_rounds: int = hyperparameter(2, "Message-passing rounds before each decision.", ge=1, le=8)
    dropout: float = hyperparameter(0.0, "Dropout in the decision modules.", ge=0.0, lt=1.0)


def decisions(graph: nx.MultiGraph, num_node_types: int = 1, num_edge_types: int = 1) -> List[Tuple[int, int]]:
    """DGL-LifeSci's action sequence that builds ``graph`` (node and edge attribute ``type``,
    default 0): ``(0, t)`` add a node of type ``t``, ``(0, num_node_types)`` stop; ``(1, t)`` add
    an edge of type ``t``, ``(1, num_edge_types)`` no more edges for this node; ``(2, u)`` the
    edge's other end is node ``u``."""
    actions = []
    for node in range(graph.number_of_nodes()):
        actions.append((ADD_NODE, graph.nodes[node].get("type", 0)))
        for earlier in sorted((u for u in graph.neighbors(node) if u < node), reverse=True):
            for data in graph.get_edge_data(node, earlier).values():
                actions += [(ADD_EDGE, data.get("type", 0)), (CHOOSE_DESTINATION, earlier)]
        actions.append((ADD_EDGE, num_edge_types))
    actions.append((ADD_NODE, num_node_types))
    return actions


def typed_graph_env(num_node_types: int, num_edge_types: int):
    """DGL-LifeSci's ``MoleculeEnv`` over type indices that also builds the graph as a networkx
    ``MultiGraph`` (``env.graph``) with node and edge ``type`` attributes: the library's own
    molecule needs RDKit element symbols as types, and ours carry a charge (``N+``). Defined on
    first use: importing DGL-LifeSci's DGMG module takes seconds."""
    from dgllife.model.model_zoo.dgmg import MoleculeEnv

    class TypedGraphEnv(MoleculeEnv):
        def reset(self, rdkit_mol=False):
            super().reset(rdkit_mol=False)
            self.graph = nx.MultiGraph()

        def add_atom(self, type):
            super().add_atom(type)
            self.graph.add_node(self.graph.number_of_nodes(), type=type)

        def add_bond(self, u, v, type, bi_direction=True):
            super().add_bond(u, v, type, bi_direction)
            self.graph.add_edge(u, v, type=type)

    return TypedGraphEnv(list(range(num_node_types)), list(range(num_edge_types)))


def propagate_over_edges(prop, graph) -> None:
    """DGL-LifeSci's ``GraphProp.forward`` (``prop`` is the module) computed over the edge list:
    per round, :math:`a_v = \\sum_{u \\to v} W_t [h_v; h_u; x_{uv}] + b_t`, then the GRU update."""
    if graph.num_edges() == 0:
        return
    source, destination = (ids.long() for ids in graph.edges())
    edge_states = graph.edata["he"]
    for message, update in zip(prop.message_funcs, prop.node_update_funcs):
        states = graph.ndata["hv"]
        messages = message(torch.cat([states[destination], states[source], edge_states], 1))
        summed = torch.zeros(len(states), messages.shape[1], dtype=messages.dtype).index_add_(0, destination, messages)
        graph.ndata["hv"] = update(summed, states)


@register_model("dgmg", tasks=("graph_generation",), hyperparameters=DGMGHyperparameters,
                defaults=dict(lr=5e-4, max_grad_norm=0.25, epochs=20, eval_every=2))
class DGMG(nn.Module):
    """DGMG over graphs with ``num_node_types`` node and ``num_edge_types`` edge types.

    Args:
        num_node_types, num_edge_types: the action space (1 and 1 for a synthetic family).
        hidden_size, num_prop_rounds, dropout: see :class:`DGMGHyperparameters`.
    """

    trains_on = "graphs"

    def __init__(self, num_node_types: int, num_edge_types: int, hidden_size: int, num_prop_rounds: int,
                 dropout: float):
        super().__init__()
        self.num_node_types, self.num_edge_types = num_node_types, num_edge_types
        from dgllife.model import DGMG as LifeSciDGMG

        self.dgmg = LifeSciDGMG(atom_types=list(range(num_node_types)), bond_types=list(range(num_edge_types)),
                                node_hidden_size=hidden_size, num_prop_rounds=num_prop_rounds, dropout=dropout)
        self.dgmg.graph_prop.forward = types.MethodType(propagate_over_edges, self.dgmg.graph_prop)
        self.dgmg.env = typed_graph_env(num_node_types, num_edge_types)
        for agent in (self.dgmg.add_node_agent, self.dgmg.add_edge_agent, self.dgmg.choose_dest_agent):
            agent.env = self.dgmg.env

    def forward(self, actions: List[Tuple[int, int]]) -> torch.Tensor:
        """The log-likelihood of the decision sequence ``actions``."""
        return self.dgmg(actions=actions, compute_log_prob=True)

    def training_loss(self, graphs: List[nx.MultiGraph]):
        """The negative log-likelihood of the graphs' decision sequences, averaged over them."""
        loss = -torch.stack([self(decisions(graph, self.num_node_types, self.num_edge_types)) for graph in graphs]).mean()
        return loss, {"train_loss": loss.item()}

    def sample(self, max_steps: int) -> Optional[nx.MultiGraph]:
        """One graph drawn decision by decision (node and edge ``type`` attributes); None when it
        has not stopped after ``max_steps``. A drawn edge that already exists is not added again."""
        self.dgmg(max_num_steps=max_steps)
        return None if self.dgmg.step_count > max_steps else self.dgmg.env.graph
