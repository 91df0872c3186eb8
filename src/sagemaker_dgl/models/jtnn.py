"""Junction tree variational autoencoder (JTNN).

Jin, Barzilay & Jaakkola, "Junction Tree Variational Autoencoder for Molecular Graph
Generation", ICML 2018, https://arxiv.org/abs/1802.04364 (DGL-LifeSci: ``dgllife.model.JTNNVAE``,
which this trains, with the fixes of :mod:`.jtnn_fixes`).

A molecule :math:`G` is decomposed into a junction tree :math:`\\mathcal{T}` whose nodes are
clusters from a vocabulary (rings, bonds, atoms). Two encoders give the latent code
:math:`z = [z_\\mathcal{T}; z_G]`: tree message passing over :math:`\\mathcal{T}` and graph message
passing over :math:`G` (``depth`` rounds), each a Gaussian :math:`q(z \\mid \\cdot) =
\\mathcal{N}(\\mu, \\sigma^2)` of size ``latent_size / 2``. The tree decoder grows
:math:`\\mathcal{T}` depth first from :math:`z_\\mathcal{T}` (at each node: expand or backtrack,
and the new node's cluster), and the graph decoder assembles the clusters into a molecule,
scoring each way of attaching a cluster to its neighbours against :math:`z_G`. Training
minimises

.. math::  \\mathcal{L} = \\mathcal{L}_\\text{word} + \\mathcal{L}_\\text{topo} +
    \\mathcal{L}_\\text{assm} + 2\\,\\mathcal{L}_\\text{stereo} + \\beta\\,\\mathrm{KL}(q \\,\\|\\, \\mathcal{N}(0, I)),

with :math:`\\beta` = ``kl_weight`` (DGL-LifeSci's example pretrains with 0 for 3 epochs, then
trains on with 0.005). Every decoded molecule
is valid by construction; a decoding that tries more than ``max_steps`` cluster attachments
gives up (an invalid sample): assembly can otherwise search exponentially long.
"""
from typing import Optional, Sequence

import torch
from torch import nn

from ..config.groups import HyperparameterGroup, hyperparameter
from ._registry import register_model


class JTNNHyperparameters(HyperparameterGroup):
    """JTNN's encoders and latent code (DGL-LifeSci's ZINC pretraining configuration by default)."""

    hidden_size: int = hyperparameter(450, "State size of the tree and graph encoders and decoders.", gt=0)
    latent_size: int = hyperparameter(56, "Latent code size: half for the tree, half for the graph (even).", ge=2,
                                      multiple_of=2)
    depth: int = hyperparameter(3, "Message-passing rounds of the graph encoders.", ge=1, le=10)
    kl_weight: float = hyperparameter(0.0, "Weight of the KL term in the loss (beta; 0: an autoencoder).", ge=0.0)


@register_model("jtnn", tasks=("graph_generation",), hyperparameters=JTNNHyperparameters,
                defaults=dict(lr=1e-3, max_grad_norm=50.0, lr_scheduler="step", lr_decay=0.9, lr_step_size=1,
                              epochs=3, eval_every=1, batch_size=40, val_samples=100, test_samples=500, max_steps=2000))
class JTNN(nn.Module):
    """JTNN over the cluster vocabulary ``vocabulary`` (cluster SMILES, as RDKit writes them).

    Args:
        vocabulary: the clusters, in index order.
        hidden_size, latent_size, depth, kl_weight: see :class:`JTNNHyperparameters`.
    """

    trains_on = "junction_trees"

    def __init__(self, vocabulary: Sequence[str], hidden_size: int, latent_size: int, depth: int, kl_weight: float):
        super().__init__()
        from .jtnn_fixes import ClusterVocabulary, FixedJTNNVAE  # DGL-LifeSci takes seconds to import

        self.vae = FixedJTNNVAE(ClusterVocabulary(vocabulary), hidden_size, latent_size, depth)
        self.vae.reset_parameters()
        self.kl_weight = kl_weight

    @property
    def device(self) -> torch.device:
        return self.vae.embedding.weight.device

    def training_loss(self, items: list):
        """The loss of a batch of featurised training molecules (a mean over them) and its parts' accuracies."""
        from dgllife.data.jtvae import JTVAECollator

        trees, tree_graphs, mol_graphs, stereo_index, stereo_labels, stereo_graphs = JTVAECollator(training=True)(items)
        loss, kl, word, topo, assm, stereo = self.vae(trees, tree_graphs.to(self.device), mol_graphs.to(self.device),
                                                      stereo_index.to(self.device), stereo_labels,
                                                      stereo_graphs.to(self.device),
                                                      beta=self.kl_weight)
        return loss, {"train_loss": loss.item(), "train_kl": kl, "train_word_acc": word, "train_topo_acc": topo,
                      "train_assm_acc": float(assm), "train_stereo_acc": float(stereo)}

    def latent_means(self, items: list) -> torch.Tensor:
        """The means of :math:`q(z \\mid G)` of featurised molecules (``(N, latent_size)``)."""
        from dgllife.data.jtvae import JTVAECollator

        _, tree_graphs, mol_graphs = JTVAECollator(training=False)(list(items))
        _, tree_vec, mol_vec = self.vae.encode(tree_graphs.to(self.device).local_var(), mol_graphs.to(self.device))
        return torch.cat([self.vae.T_mean(tree_vec), self.vae.G_mean(mol_vec)], dim=1)

    def decode(self, latent: torch.Tensor, max_steps: int) -> Optional[str]:
        """The molecule decoded from one latent code (``(latent_size,)``); None when assembly gives up."""
        half = self.vae.latent_size // 2
        return self._bounded(max_steps, self.vae.decode, latent[:half].view(1, -1), latent[half:].view(1, -1), False)

    def reconstruct(self, item, max_steps: int) -> Optional[str]:
        """DGL-LifeSci's reconstruction of one featurised molecule: encode, draw :math:`z` from
        :math:`q(z \\mid G)`, decode greedily."""
        from dgllife.data.jtvae import JTVAECollator

        _, tree_graph, mol_graph = JTVAECollator(training=False)([item])
        return self._bounded(max_steps, self.vae.reconstruct, tree_graph.to(self.device),
                             mol_graph.to(self.device))

    @staticmethod
    def _bounded(max_steps: int, decode, *args) -> Optional[str]:
        from .jtnn_fixes import AttachmentBudgetSpent, attachment_budget

        try:
            with attachment_budget(max_steps):
                return decode(*args)
        except AttachmentBudgetSpent:
            return None

    def sample(self, max_steps: int) -> Optional[str]:
        """A molecule decoded from :math:`z \\sim \\mathcal{N}(0, I)` (SMILES); None when assembly gives up."""
        return self.decode(torch.randn(self.vae.latent_size, device=self.device), max_steps)

