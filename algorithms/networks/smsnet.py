"""Sparse mixed-scale network (SMSNet), DLSIA section 2.4 (Roberts et al. 2024).

Input (N, C_in, *spatial), 2 or 3 spatial dimensions; output (N, C_out, *spatial) logits.
A random DAG links the input node I (node 0), ``depth`` hidden nodes L (1..d, ``channels``
channels each) and the output node O (node d+1). Drawn from a seed:

* ``gamma ~ U(ll_gamma)``, ``alpha ~ U(ll_alpha)`` once per network;
* hidden node j gets n_j outgoing edges to later hidden nodes, n_j in
  [min(k_min, d-j), min(k_max, d-j)] with P(n) ~ exp(-gamma n); targets i > j are drawn without
  replacement with P(i) ~ exp(-alpha |i-j|);
* an edge I -> L_j with probability ``p_il``, L_j -> O with probability ``p_lo``, I -> O when
  ``p_io``; a hidden node left without input is fed from I, one left without output feeds O;
* edges into hidden nodes are 3x3 convolutions with a dilation drawn from
  ``dilation_choices``; edges into O are 1x1 convolutions (as MSDNet's last layer).

A hidden node sums its incoming convolutions, then normalization (or a bias) and the
activation; O sums its inputs plus a bias. The drawn :class:`SMSGraph` is plain data, saved
with the weights (``architecture_state``) so a trained SMSNet reloads without redrawing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from algorithms.errors import ParameterError
from algorithms.networks.layers import activation, check_ndim, conv, norm
from algorithms.networks.params import SMSNetParams
from algorithms.networks.zoo import register_model


@dataclass(frozen=True)
class SMSGraph:
    """A drawn SMSNet topology: node 0 = input, 1..depth hidden, depth+1 = output."""

    depth: int
    channels: int
    edges: tuple[tuple[int, int, int], ...] = field(default_factory=tuple)  # (src, dst, dilation)

    @property
    def output_node(self) -> int:
        """Index of the output node."""
        return self.depth + 1

    def incoming(self, node: int) -> list[tuple[int, int, int]]:
        """Edges ending at ``node``, in drawing order."""
        return [edge for edge in self.edges if edge[1] == node]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"depth": self.depth, "channels": self.channels,
                "edges": [list(edge) for edge in self.edges]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SMSGraph:
        """Inverse of :meth:`to_dict`."""
        edges = tuple((int(s), int(t), int(d)) for s, t, d in data["edges"])
        graph = cls(int(data["depth"]), int(data["channels"]), edges)
        for source, target, dilation in edges:
            if not 0 <= source < target <= graph.output_node or dilation < 1:
                raise ParameterError("architecture", f"invalid edge {(source, target, dilation)}")
        return graph


def draw_graph(params: SMSNetParams) -> SMSGraph:
    """Draw the random SMSNet graph that ``params`` (and its seed) define."""
    if params.depth < 1:
        raise ParameterError("depth", "must be >= 1")
    if not params.dilation_choices or min(params.dilation_choices) < 1:
        raise ParameterError("dilation_choices", "every dilation must be >= 1")
    rng = np.random.default_rng(params.seed)
    depth = params.depth
    output = depth + 1
    gamma = rng.uniform(*params.ll_gamma)
    alpha = rng.uniform(*params.ll_alpha)
    choices = list(params.dilation_choices)

    def dilation() -> int:
        return int(choices[rng.integers(len(choices))])

    edges: list[tuple[int, int, int]] = []
    for j in range(1, depth + 1):
        available = depth - j
        low, high = min(params.k_min, available), min(params.k_max, available)
        if high == 0:
            continue
        counts = np.arange(low, high + 1)
        weights = np.exp(-gamma * counts)
        n_edges = int(rng.choice(counts, p=weights / weights.sum()))
        targets = np.arange(j + 1, depth + 1)
        weights = np.exp(-alpha * (targets - j))
        chosen = rng.choice(targets, size=n_edges, replace=False, p=weights / weights.sum())
        edges += [(j, int(t), dilation()) for t in sorted(chosen)]
    for j in range(1, depth + 1):
        if rng.random() < params.p_il:
            edges.append((0, j, dilation()))
    for j in range(1, depth + 1):
        if rng.random() < params.p_lo:
            edges.append((j, output, 1))
    for j in range(1, depth + 1):  # no dead ends: every hidden node is fed and feeds something
        if not any(t == j for _, t, _ in edges):
            edges.append((0, j, dilation()))
        if not any(s == j for s, _, _ in edges):
            edges.append((j, output, 1))
    if params.p_io:
        edges.append((0, output, 1))
    edges.sort(key=lambda edge: (edge[1], edge[0]))
    return SMSGraph(depth, params.channels, tuple(edges))


class SMSNet(nn.Module):
    """Sparse mixed-scale network over a drawn :class:`SMSGraph`."""

    def __init__(self, in_channels: int, out_channels: int, graph: SMSGraph,
                 activation_name: str = "relu", normalization: str = "batch",
                 ndim: int = 2) -> None:
        super().__init__()
        self.ndim = check_ndim(ndim)
        self.graph = graph
        self.activation_name = activation_name
        self.normalization = normalization
        output = graph.output_node

        def node_channels(node: int) -> int:
            if node == 0:
                return in_channels
            return out_channels if node == output else graph.channels

        self.edges = nn.ModuleDict()
        for source, target, dilation in graph.edges:
            kernel = 1 if target == output else 3
            self.edges[f"{source}_{target}"] = conv(
                ndim, node_channels(source), node_channels(target), kernel_size=kernel,
                dilation=dilation if kernel == 3 else 1, bias=False)
        self.norms = nn.ModuleList(norm(ndim, normalization, graph.channels)
                                   for _ in range(graph.depth))
        self.hidden_bias = (nn.Parameter(torch.zeros(graph.depth, graph.channels))
                            if normalization == "none" else None)
        self.activation = activation(activation_name)
        self.bias = nn.Parameter(torch.zeros(out_channels))
        fan_in = sum(node_channels(s) for s, t, _ in graph.edges if t == output)
        bound = 1 / math.sqrt(max(fan_in, 1))
        nn.init.uniform_(self.bias, -bound, bound)

    def architecture_state(self) -> dict[str, Any]:
        """The drawn graph, for saving with the weights."""
        return {"graph": self.graph.to_dict()}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (N, out_channels, *spatial)."""
        values: dict[int, torch.Tensor] = {0: x}
        shape = (1, -1) + (1,) * self.ndim
        for node in range(1, self.graph.output_node + 1):
            total = None
            for source, target, _ in self.graph.incoming(node):
                term = self.edges[f"{source}_{target}"](values[source])
                total = term if total is None else total + term
            if node == self.graph.output_node:
                return total + self.bias.view(shape)
            if self.hidden_bias is not None:
                total = total + self.hidden_bias[node - 1].view(shape)
            values[node] = self.activation(self.norms[node - 1](total))
        raise AssertionError("unreachable: the output node is always visited")


@register_model("smsnet")
def build(params: SMSNetParams, in_channels: int, out_channels: int, ndim: int = 2,
          architecture: dict[str, Any] | None = None) -> SMSNet:
    """Build an SMSNet: draw its graph from ``params.seed`` or rebuild a saved one."""
    graph = (SMSGraph.from_dict(architecture["graph"]) if architecture
             else draw_graph(params))
    return SMSNet(in_channels, out_channels, graph, params.activation, params.normalization,
                  ndim)
