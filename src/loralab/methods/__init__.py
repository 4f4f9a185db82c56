"""Adaptation methods (full, LoRA, QLoRA) as typed configs, and the one training path."""
