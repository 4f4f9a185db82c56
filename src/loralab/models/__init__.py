"""Backbones: hub ids, local folders, GGUF files and packaged offline aliases."""
