"""The Task2Box research core: box math, the box network, losses, the trainer and baselines.

Pure PyTorch and NumPy: nothing here imports the web stack, the database or the environment.
"""

from models.box import Boxes
from models.device import select_device
from models.errors import TrainingError
from models.losses import LOSS_NAMES, LossParams, LossSpec, get_loss
from models.network import BoxNet, BoxNetConfig
from models.ops import (
    containment,
    gumbel_intersection,
    hard_intersection,
    log_containment,
    log_softplus,
    log_volume,
)
from models.pairs import PairSet
from models.scoring import containment_matrix, containment_pairs, containment_to_all
from models.train import fit
from models.train_config import TrainConfig
from models.trained import TrainedBoxModel

__all__ = [
    "LOSS_NAMES",
    "BoxNet",
    "BoxNetConfig",
    "Boxes",
    "LossParams",
    "LossSpec",
    "PairSet",
    "TrainConfig",
    "TrainedBoxModel",
    "TrainingError",
    "containment",
    "containment_matrix",
    "containment_pairs",
    "containment_to_all",
    "fit",
    "get_loss",
    "gumbel_intersection",
    "hard_intersection",
    "log_containment",
    "log_softplus",
    "log_volume",
    "select_device",
]
