"""The `clip` representation: CLIP embeddings of label prompts and sampled images.

The dataset vector is `[mean; variance]` over the L2-normalized CLIP embeddings of its label
prompts ("a photo of a {label}") together with those of up to k sampled images. Text and
images share CLIP's space, so a dataset whose images cannot be fetched still gets a
comparable (text-only) vector. The weights come from the Hub (or its local cache): where they
cannot be reached, `RepresentationUnavailable` says so and what to do instead.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from backend.representations.clip_weights import load_clip
from backend.representations.label_text import prompt_for
from models.features import cap_labels, mean_var_vector

if TYPE_CHECKING:
    from backend.config import Settings

log = logging.getLogger(__name__)

KIND = "clip"
ImageSource = Callable[[str, int], list[Any]]


class ClipRepresenter:
    """CLIP over label text and a few images per dataset.

    Args:
        model_name: Hub id of the CLIP weights (`T2B_CLIP_MODEL`).
        image_source: `(dataset_id, k) -> PIL images`; None uses text only.
        images_per_dataset: k, images sampled per dataset (`T2B_CLIP_IMAGES_PER_DATASET`).
        max_labels: label prompts embedded per dataset (`T2B_MAX_EMBEDDED_LABELS`).
        device: torch device for the model.
        local_files_only: never try the network for weights (fail fast when not cached).
    """

    kind = KIND

    def __init__(
        self,
        model_name: str,
        *,
        image_source: ImageSource | None = None,
        images_per_dataset: int = 8,
        max_labels: int = 512,
        device: str = "cpu",
        local_files_only: bool = False,
    ) -> None:
        if images_per_dataset < 0:
            raise ValueError(f"images_per_dataset must be >= 0, got {images_per_dataset}")
        if max_labels < 1:
            raise ValueError(f"max_labels must be >= 1, got {max_labels}")
        self._model_name = model_name
        self._image_source = image_source
        self._k = images_per_dataset if image_source is not None else 0
        self._max_labels = max_labels
        self._device = device
        self._local_only = local_files_only
        self._lock = threading.Lock()
        self._loaded: tuple[Any, Any] | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> ClipRepresenter:
        """A representer configured from settings, sampling images from the Hub."""
        from backend.representations.images import sample_images

        def _images(dataset_id: str, k: int) -> list[Any]:
            return sample_images(
                dataset_id,
                k,
                viewer_endpoint=settings.viewer_endpoint,
                token=settings.hf_token,
                timeout=settings.http_timeout_s,
            )

        device = "cpu" if settings.device == "auto" else settings.device
        return cls(
            settings.clip_model,
            image_source=_images,
            images_per_dataset=settings.clip_images_per_dataset,
            max_labels=settings.max_embedded_labels,
            device=device,
        )

    @property
    def version(self) -> str:
        return f"clip:{self._model_name};images={self._k};cap={self._max_labels}"

    def _load(self) -> tuple[Any, Any]:
        with self._lock:
            if self._loaded is None:
                model, processor = load_clip(
                    self._model_name,
                    images_only=False,
                    local_only=self._local_only,
                    hint="Or use the offline `label-text` representation instead.",
                )
                self._loaded = (model.to(self._device).eval(), processor)
            return self._loaded

    @staticmethod
    def _features(output: Any) -> Any:
        # transformers 4 returns the projected tensor, 5 an output object holding it.
        return output if hasattr(output, "norm") else output.pooler_output

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """`(n, d)` unit CLIP text embeddings."""
        import torch

        model, processor = self._load()
        with torch.inference_mode():
            inputs = processor(text=list(texts), return_tensors="pt", padding=True, truncation=True)
            feats = self._features(model.get_text_features(**inputs.to(self._device)))
            feats = torch.nn.functional.normalize(feats, dim=-1)
        return np.asarray(feats.cpu().numpy(), dtype=np.float32)

    def embed_images(self, images: Sequence[Any]) -> np.ndarray:
        """`(n, d)` unit CLIP image embeddings of PIL images."""
        import torch

        model, processor = self._load()
        with torch.inference_mode():
            inputs = processor(images=list(images), return_tensors="pt")
            feats = self._features(model.get_image_features(**inputs.to(self._device)))
            feats = torch.nn.functional.normalize(feats, dim=-1)
        return np.asarray(feats.cpu().numpy(), dtype=np.float32)

    def dataset_vectors(self, datasets: Sequence[tuple[str, Sequence[str]]]) -> list[np.ndarray]:
        """`[mean; variance]` over each dataset's label-prompt and image embeddings."""
        self._load()  # fail before any network work when the weights are missing
        vectors = []
        for dataset_id, labels in datasets:
            prompts = [prompt_for(label) for label in cap_labels(labels, self._max_labels)]
            rows = [self.embed_texts(prompts)] if prompts else []
            images = self._image_source(dataset_id, self._k) if self._image_source else []
            if images:
                rows.append(self.embed_images(images[: self._k]))
            if not rows:
                raise ValueError(f"dataset {dataset_id!r} has neither labels nor images")
            vectors.append(mean_var_vector(np.concatenate(rows)))
        return vectors
