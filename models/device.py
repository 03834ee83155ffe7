"""Pick the torch device: cuda > mps > cpu, with an explicit override."""

from __future__ import annotations

import threading

import torch

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def select_device(preference: str = "auto") -> torch.device:
    """Resolve a device preference.

    Args:
        preference: "auto" (cuda if available, else mps, else cpu), or one of "cpu",
            "cuda", "mps" to force it.

    Returns:
        The torch device.

    Raises:
        ValueError: for an unknown preference.
        RuntimeError: if the forced device is not available on this machine.
    """
    if preference not in DEVICE_CHOICES:
        raise ValueError(f"device must be one of {', '.join(DEVICE_CHOICES)}; got {preference!r}")
    if preference == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if preference == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(
            "device 'cuda' was requested but CUDA is not available "
            f"(torch {torch.__version__}, built for CUDA {torch.version.cuda}); "
            "install a CUDA build of torch or use device='auto'/'cpu'"
        )
    if preference == "mps" and not _mps_available():
        raise RuntimeError(
            "device 'mps' was requested but Metal (MPS) is not available on this machine; "
            "use device='auto'/'cpu'"
        )
    return torch.device(preference)


_thread_state = threading.local()


def use_threads(threads: int) -> None:
    """Sets torch's intra-op CPU threads for the work the *calling* thread does next.

    With torch's OpenMP backend the count is kept per OS thread: a thread-pool worker (where
    the server places a dataset, or runs a train job) starts with the default, one per core,
    whatever another thread set, and `torch.get_num_threads()` reports the last value set
    anywhere rather than what this thread will use. So the count is set in each thread that
    computes, once per thread and value (the call is not free on a hot path).
    """
    if threads < 1:
        raise ValueError(f"threads must be >= 1, got {threads}")
    if getattr(_thread_state, "threads", None) != threads:
        torch.set_num_threads(threads)
        _thread_state.threads = threads
