"""Linear-probe initialisation of the preference head (LP-FT, Kumar et al. 2022).

A new head trained jointly with the encoder starts random, and on HH-RLHF it stayed at chance for a whole
epoch (measured), while a logistic regression on the frozen encoder's a - b vectors reached 0.549 test
accuracy. So the head starts as that probe, a Bradley-Terry scorer: logit_A = w.a, logit_B = w.b (in the
symmetric head, A's row reads `a`, B's row reads `b`), and fine-tuning continues from there.
"""

from __future__ import annotations

import numpy as np
import torch
from rich.console import Console

from loralab.models.siamese import SiamesePreferenceModel

console = Console(stderr=True)


@torch.inference_mode()
def pair_vectors(model: SiamesePreferenceModel, dataset, collator, count: int, batch_size: int = 32):
    """(a vectors, b vectors, labels) of the first `count` pairs, in their stored order (no A/B swap)."""
    was_training = model.training
    model.eval()
    # bnb repacks 4-bit weights for its CPU inference kernel on an eval forward, and training on the repacked
    # weights before the first optimizer step fails: keep the training layout during the probe.
    packing = _suspend_cpu_packing(model)
    rows = [{"a": dataset.a[i], "b": dataset.b[i], "labels": dataset.labels[i]} for i in range(min(count, len(dataset)))]
    a_parts, b_parts = [], []
    try:
        for start in range(0, len(rows), batch_size):
            batch = collator(rows[start:start + batch_size])
            batch.pop("labels")
            vectors = model.embed(**batch)
            a, b = vectors.chunk(2, dim=0)
            a_parts.append(a.float().numpy())
            b_parts.append(b.float().numpy())
    finally:
        for module, flag in packing:
            module.support_avx512bf16_for_cpu = flag
        model.train(was_training)
    return np.concatenate(a_parts), np.concatenate(b_parts), np.array([r["labels"] for r in rows])


def _suspend_cpu_packing(model) -> list[tuple[torch.nn.Module, bool]]:
    saved = [(m, m.support_avx512bf16_for_cpu) for m in model.modules() if hasattr(m, "support_avx512bf16_for_cpu")]
    for module, _ in saved:
        module.support_avx512bf16_for_cpu = False
    return saved


def init_head_from_probe(model: SiamesePreferenceModel, dataset, collator, count: int = 2000, C: float = 0.1) -> float | None:
    """Fit w on the training pairs' a - b (both orders) and load it into the head; returns the probe's
    training accuracy, or None when the head has no a/b features or the pairs have one class."""
    from sklearn.linear_model import LogisticRegression

    features = model.head_config.features
    if not model.head_config.symmetric or "a" not in features or "b" not in features:
        return None
    a, b, labels = pair_vectors(model, dataset, collator, count)
    decisive = labels != 2
    diff = a[decisive] - b[decisive]
    y = (labels[decisive] == 0).astype(int)
    if len(set(y)) < 2:
        return None
    # Both orders make the probe antisymmetric; no intercept, as a position bias has no meaning here.
    probe = LogisticRegression(C=C, max_iter=2000, fit_intercept=False).fit(np.concatenate([diff, -diff]), np.concatenate([y, 1 - y]))
    w = torch.as_tensor(probe.coef_[0], dtype=model.classifier.weight.dtype)
    size = w.numel()
    with torch.no_grad():
        model.classifier.weight.zero_()
        model.classifier.weight[0, features.index("a") * size:(features.index("a") + 1) * size] = w
        model.classifier.weight[1, features.index("b") * size:(features.index("b") + 1) * size] = w
        tie_rate = max(float((labels == 2).mean()), 1e-3)  # no ties in the data: a small prior, still learnable
        model.classifier.bias.copy_(torch.tensor([0.0, 0.0, float(np.log(tie_rate / (1 - tie_rate)))]))
    accuracy = float(probe.score(diff, y))
    console.print(f"head initialised from a linear probe on {len(y)} training pairs (probe accuracy {accuracy:.3f})")
    return accuracy
