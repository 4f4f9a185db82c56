"""bf16 only where this machine multiplies bf16 on real units: "auto" picks it there, an explicit ask elsewhere is
refused for training with the fix."""

import pytest
import torch

from loralab.errors import ConfigError
from loralab.models import hardware


def test_auto_follows_what_onednn_or_cuda_reports():
    native = torch.cuda.is_available() or bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    assert hardware.native_bf16() == native
    assert hardware.training_precision("auto") == ("bf16" if native else "fp32")
    assert hardware.compute_dtype("auto") == (torch.bfloat16 if native else torch.float32)
    assert hardware.training_precision("fp32") == "fp32" and hardware.compute_dtype("float16") == torch.float16


def test_bf16_without_bf16_units_is_refused_for_training_and_warned_about_for_inference(monkeypatch):
    monkeypatch.setattr(hardware, "native_bf16", lambda: False)
    with pytest.raises(ConfigError, match=r"precision bf16: .*scalar fallback.*--precision fp32"):
        hardware.training_precision("bf16")
    assert hardware.training_precision("auto") == "fp32"
    with pytest.warns(UserWarning, match="int8-dynamic"):
        hardware.warn_if_slow_bf16("scoring")
    monkeypatch.setattr(hardware, "native_bf16", lambda: True)
    assert hardware.training_precision("bf16") == "bf16" and hardware.training_precision("auto") == "bf16"
