"""Registry cards of the network segmentation algorithms (MSDNet, TUNet, U-Net 3+, SMSNets).

Each parameter model joins the network's architecture parameters, the training parameters and
the tiling/inference options, so one flat form (grouped by UI hints) describes a whole job.
Importing this module does not import torch: the runner is named by a dotted path.
"""

from __future__ import annotations

from pydantic import ConfigDict

from algorithms.networks.params import (
    MSDNetParams,
    SMSNetEnsembleParams,
    TUNet3PlusParams,
    TUNetParams,
)
from algorithms.registry import AlgorithmInfo, register
from algorithms.segmentation.params import TilingOptions
from algorithms.training.params import TrainingParameters

RUNNER = "algorithms.segmentation.networks:run"
DLSIA = "Roberts, Chavez, Hexemer & Zwart, J. Appl. Cryst. 57, 392-402 (2024)"


class MSDNetSegmentation(MSDNetParams, TrainingParameters, TilingOptions):
    """MSDNet segmentation: architecture, training and tiling parameters."""

    model_config = ConfigDict(extra="forbid")


class TUNetSegmentation(TUNetParams, TrainingParameters, TilingOptions):
    """Tunable U-Net segmentation: architecture, training and tiling parameters."""

    model_config = ConfigDict(extra="forbid")


class TUNet3PlusSegmentation(TUNet3PlusParams, TrainingParameters, TilingOptions):
    """U-Net 3+ segmentation: architecture, training and tiling parameters."""

    model_config = ConfigDict(extra="forbid")


class SMSNetEnsembleSegmentation(SMSNetEnsembleParams, TrainingParameters, TilingOptions):
    """SMSNet ensemble segmentation; ``seed`` draws member i's graph (seed + i) and training."""

    model_config = ConfigDict(extra="forbid")


def _card(name: str, description: str, parameters: type, memory_gb: float) -> AlgorithmInfo:
    return register(
        AlgorithmInfo(
            name=name,
            version="1.0.0",
            application="segmentation",
            description=description,
            parameters=parameters,
            runner=RUNNER,
            steps=("train", "infer"),
            reference=DLSIA,
            gpu="optional",
            memory_gb=memory_gb,
            cpus=2,
            inputs=("data_uri", "labels_uri", "model_uri"),
            outputs=("model", "mask", "probabilities", "uncertainty", "prediction_sets"),
            framework="pytorch",
            tags=("dlsia", "network", "sparse-labels"),
        )
    )


MSDNET = _card(
    "msdnet",
    "Mixed-scale dense network (Pelt & Sethian 2018): few parameters, dilated convolutions "
    "densely connected; trains well from sparse scribbles.",
    MSDNetSegmentation,
    4.0,
)
TUNET = _card(
    "tunet",
    "Tunable U-Net (DLSIA): depth, base channels, growth and hidden rates set its size.",
    TUNetSegmentation,
    8.0,
)
TUNET3PLUS = _card(
    "tunet3plus",
    "U-Net 3+ (Huang et al. 2020) with full-scale skip connections, tunable like TUNet.",
    TUNet3PlusSegmentation,
    8.0,
)
SMSNET_ENSEMBLE = _card(
    "smsnet_ensemble",
    "Ensemble of sparse mixed-scale networks with random graphs (DLSIA): mean prediction, "
    "per-pixel spread as uncertainty; robust with few labels.",
    SMSNetEnsembleSegmentation,
    6.0,
)

CARDS: dict[str, AlgorithmInfo] = {
    info.name: info for info in (MSDNET, TUNET, TUNET3PLUS, SMSNET_ENSEMBLE)
}
# Card name -> zoo network each member is built with.
ZOO_NAMES: dict[str, str] = {
    "msdnet": "msdnet",
    "tunet": "tunet",
    "tunet3plus": "tunet3plus",
    "smsnet_ensemble": "smsnet",
}
