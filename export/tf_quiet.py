"""TensorFlow imported quietly: its start-up lines and later C++/absl INFO and WARNING lines kept off the terminal."""

from __future__ import annotations

import contextlib
import os


def quiet_tensorflow(verbose: bool) -> None:
    """Import TensorFlow with its start-up lines silenced; no INFO/WARNING lines from its C++ side or absl later (unless -v)."""
    from runtime.quiet import native_output_silenced

    if verbose:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    os.environ.setdefault("GLOG_minloglevel", "2")
    # TensorFlow's import logs before absl's log is set up ("I0000 ... oneDNN custom operations are on"),
    # whatever TF_CPP_MIN_LOG_LEVEL says: import it here, silenced, so later imports are no-ops.
    with native_output_silenced(), contextlib.suppress(ImportError):
        import tensorflow  # noqa: F401
    with contextlib.suppress(ImportError):
        import absl.logging

        absl.logging.set_verbosity(absl.logging.ERROR)
