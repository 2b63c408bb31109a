"""Per-pixel attributions of a Keras classifier for every candidate class: SHAP's DeepExplainer, or integrated gradients.

Both return float32 (N, 28, 28, 1, K): for image n and class k, how much
each pixel moved the class-k probability away from a reference. Their
sums check themselves: SHAP's equal f_k(x) - E[f_k(background)] (additivity),
integrated gradients' equal f_k(x) - f_k(baseline) (completeness).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

IG_STEPS = 256  # trapezoid steps along the straight path; 64 left a 0.027 completeness error on the 11-output CNN


@dataclass
class Attributions:
    values: np.ndarray  # (N, 28, 28, 1, K)
    reference: np.ndarray  # (K,) or (N, K): the output the attributions are measured from
    method: str  # "shap.DeepExplainer" or "integrated gradients"
    note: str = ""

    def sum_error(self, probs: np.ndarray) -> float:
        """Largest |sum of attributions - (output - reference output)| over images and classes."""
        sums = self.values.reshape(len(self.values), -1, self.values.shape[-1]).sum(1)
        return float(np.abs(sums - (probs - self.reference)).max())


def integrated_gradients(model, images: np.ndarray, baseline: np.ndarray | None = None,
                         steps: int = IG_STEPS) -> Attributions:
    """Integrated gradients of each class probability, from a black image (MNIST's background) by default."""
    import tensorflow as tf

    x = np.asarray(images, np.float32)
    base = np.zeros_like(x[:1]) if baseline is None else np.asarray(baseline, np.float32).reshape(1, *x.shape[1:])
    alphas = np.linspace(0.0, 1.0, steps + 1, dtype=np.float32)
    weights = np.full(steps + 1, 1.0 / steps, np.float32)
    weights[[0, -1]] /= 2  # trapezoid rule
    classes = int(model.output_shape[-1])
    values = np.zeros((*x.shape, classes), np.float32)
    for n in range(len(x)):
        path = tf.constant(base + alphas[:, None, None, None] * (x[n:n + 1] - base))
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(path)
            probs = model(path, training=False)
            per_class = [tf.reduce_sum(probs[:, k]) for k in range(classes)]
        for k in range(classes):
            grads = tape.gradient(per_class[k], path).numpy()
            values[n, ..., k] = (x[n] - base[0]) * np.tensordot(weights, grads, axes=1)
        del tape
    reference = model(tf.constant(base), training=False).numpy()[0]
    return Attributions(values, reference, "integrated gradients", f"{steps} trapezoid steps from a black image")


def shap_deep(model, images: np.ndarray, background: np.ndarray) -> Attributions:
    """SHAP's DeepExplainer (DeepLIFT rescale rule averaged over a background sample), as the notebook drew them.

    shap checks additivity itself and raises when the sums miss by more than its tolerance.
    """
    import warnings

    import shap
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")  # shap retraces its gradient function per call and TF warns each time
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "graph support removed in eager mode", structure-of-inputs notes
        explainer = shap.DeepExplainer(model, np.asarray(background, np.float32))
        values = np.asarray(explainer.shap_values(np.asarray(images, np.float32)), np.float32)
    reference = np.asarray(explainer.expected_value, np.float32).reshape(-1)
    return Attributions(values, reference, f"shap.DeepExplainer (shap {shap.__version__})",
                        f"background: {len(background)} training images")


def shap_status() -> tuple[bool, str]:
    """Whether shap imports here, and its version or why not."""
    try:
        import shap
    except Exception as exc:  # ImportError, or a numba/llvmlite mismatch at import
        return False, f"{type(exc).__name__}: {exc}"
    return True, shap.__version__
