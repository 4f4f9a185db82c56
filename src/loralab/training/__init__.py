"""The one training path (Hugging Face Trainer): callbacks, checkpoints, resume."""
