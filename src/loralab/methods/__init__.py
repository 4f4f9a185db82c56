"""Adaptation methods (full, LoRA, QLoRA) as typed configs, and how each builds a trainable model."""
