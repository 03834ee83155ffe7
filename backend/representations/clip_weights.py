"""CLIP's weights and processor, loaded one way for the `clip` representation (text and
images) and for the image features of transfer estimates (images only)."""

from __future__ import annotations

from typing import Any

from backend.errors import RepresentationUnavailable


def load_clip(
    model_name: str, *, images_only: bool, local_only: bool, hint: str = ""
) -> tuple[Any, Any]:
    """`(model, processor)` of the CLIP weights `model_name` (a Hub id or a local folder);
    with `images_only`, the image processor alone (no tokenizer is needed or fetched).
    `hint` ends the error message (what else the caller can use).

    Raises:
        RepresentationUnavailable: the weights cannot be loaded here (offline with a cold
            cache, a missing folder, Pillow missing), with what to do about it.
    """
    try:
        from transformers import CLIPImageProcessor, CLIPModel, CLIPProcessor

        model: Any = CLIPModel.from_pretrained(model_name, local_files_only=local_only)
        processor_class: Any = CLIPImageProcessor if images_only else CLIPProcessor
        processor = processor_class.from_pretrained(model_name, local_files_only=local_only)
    except Exception as e:  # OSError, connection errors, missing Pillow...
        raise RepresentationUnavailable(
            f"CLIP weights {model_name!r} cannot be loaded here ({type(e).__name__}: "
            f"{str(e)[:300]}). They are fetched from the Hub on first use, so this needs "
            "network access (or a warm Hugging Face cache) and Pillow; or set T2B_CLIP_MODEL "
            f"to weights available locally.{' ' + hint if hint else ''}"
        ) from e
    return model, processor
