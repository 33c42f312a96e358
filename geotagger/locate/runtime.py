"""ONNX Runtime sessions on the best device that really works.

onnxruntime-gpu lists CUDA in get_available_providers() even without a usable GPU or CUDA libraries
(FACTS.md), so the provider list of the *created* session is the only trustworthy answer.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

from geotagger.errors import ModelError, UserInputError

log = logging.getLogger(__name__)

DEVICES = ("auto", "cpu", "cuda")
# Batch sizes that keep each device busy without holding much memory.
DEFAULT_BATCH = {"cpu": 32, "cuda": 256}
# Present on Linux whenever an NVIDIA driver is loaded (also inside GPU containers).
_NVIDIA_NODES = ("/proc/driver/nvidia", "/dev/nvidiactl", "/dev/nvidia0")


def cpu_threads() -> int:
    """Cores this process may use (respects affinity masks of containers)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def default_batch_size(device: str) -> int:
    return DEFAULT_BATCH.get(device, 32)


def create_session(
    onnx_path: str | Path, device: str = "auto", *, threads: int | None = None
) -> tuple[Any, str]:
    """Create an inference session; returns (session, device_used) with device_used "cuda" or "cpu".

    ``device="cuda"`` fails with ModelError when CUDA does not work; ``"auto"`` falls back to CPU and
    logs why.
    """
    if device not in DEVICES:
        raise UserInputError(f"unknown device {device!r}; choose one of {', '.join(DEVICES)}")
    import onnxruntime as ort

    path = str(onnx_path)
    if not Path(path).is_file():
        raise ModelError(f"ONNX model not found: {path}")
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads or cpu_threads()
    options.inter_op_num_threads = 1
    # No busy-waiting between operators: decoding workers share the cores, and spinning threads
    # halved throughput on a loaded 2-core machine (27 vs 45 img/s for Lite0, batch 8).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3  # onnxruntime-gpu without CUDA logs errors we handle ourselves

    reason = ""
    if device in ("auto", "cuda"):
        if "CUDAExecutionProvider" not in ort.get_available_providers():
            reason = "this onnxruntime build has no CUDA provider"
        elif sys.platform.startswith("linux") and not any(Path(p).exists() for p in _NVIDIA_NODES):
            reason = "no NVIDIA driver/GPU found"
        else:
            # The provider bridge logs through the default logger; keep its failure noise quiet.
            ort.set_default_logger_severity(4)
            try:
                session = ort.InferenceSession(
                    path, sess_options=options, providers=["CUDAExecutionProvider", "CPUExecutionProvider"]
                )
            except Exception as exc:  # onnxruntime raises plain RuntimeError/Fail subclasses
                reason = (
                    f"CUDA session failed: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
                )
            else:
                if "CUDAExecutionProvider" in session.get_providers():
                    return session, "cuda"
                reason = "CUDA provider is installed but not usable (no GPU, driver or CUDA/cuDNN libraries)"
            finally:
                ort.set_default_logger_severity(3)
        if device == "cuda":
            raise ModelError(f"--device cuda requested but {reason}")
        log.info("running on CPU: %s", reason)
    try:
        session = ort.InferenceSession(path, sess_options=options, providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise ModelError(f"cannot load ONNX model {path}: {str(exc).splitlines()[0]}") from exc
    return session, "cpu"
