"""Ensembles of networks (DLSIA section 4.2): mean and spread of the members' softmax outputs.

``forward`` returns ``log(mean softmax)``, which behaves as logits: ``argmax`` gives the
ensemble's class and ``cross_entropy`` on it is the negative log of the mean probability.
:meth:`ModelEnsemble.mean_and_std` gives the per-pixel class probabilities and their standard
deviation across members, the uncertainty the paper thresholds (mean - std > 0.5).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from algorithms.errors import ParameterError
from algorithms.networks.params import SMSNetEnsembleParams, SMSNetParams
from algorithms.networks.smsnet import build as build_smsnet
from algorithms.networks.zoo import register_model


class ModelEnsemble(nn.Module):
    """Any networks with the same input and output channels, averaged in probability space."""

    def __init__(self, members: Sequence[nn.Module]) -> None:
        super().__init__()
        if not members:
            raise ParameterError("members", "must be >= 1")
        self.members = nn.ModuleList(members)

    def member_probabilities(self, x: torch.Tensor) -> torch.Tensor:
        """Softmax outputs of every member, (members, N, C, *spatial)."""
        return torch.stack([torch.softmax(member(x), dim=1) for member in self.members])

    def mean_and_std(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and (population) standard deviation over members of the class probabilities."""
        probabilities = self.member_probabilities(x)
        return probabilities.mean(dim=0), probabilities.std(dim=0, correction=0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``log`` of the mean class probabilities, (N, C, *spatial)."""
        mean = self.member_probabilities(x).mean(dim=0)
        return torch.log(mean.clamp_min(torch.finfo(mean.dtype).tiny))

    def architecture_state(self) -> dict[str, Any]:
        """Architectures of the members that have one (SMSNet graphs)."""
        states = []
        for member in self.members:
            method = getattr(member, "architecture_state", None)
            states.append(method() if callable(method) else None)
        return {"members": states}


@register_model("smsnet_ensemble")
def build(params: SMSNetEnsembleParams, in_channels: int, out_channels: int, ndim: int = 2,
          architecture: dict[str, Any] | None = None) -> ModelEnsemble:
    """``members`` SMSNets drawn from seeds ``seed, seed+1, ...`` (or rebuilt from graphs)."""
    saved = architecture["members"] if architecture else [None] * params.members
    if len(saved) != params.members:
        raise ParameterError("members", f"{params.members} members but {len(saved)} graphs saved")
    single = params.model_dump(exclude={"members"})
    members = []
    for index, member_architecture in enumerate(saved):
        member_params = SMSNetParams(**{**single, "seed": (params.seed + index) % 2**31})
        members.append(build_smsnet(member_params, in_channels, out_channels, ndim,
                                    member_architecture))
    return ModelEnsemble(members)
