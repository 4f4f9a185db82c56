"""loralab: find and ship the best way to adapt a transformer for a task under a budget."""

from loralab.optional import mute_library_noise

__version__ = "0.1.0"

# Before anything can import torchao or bitsandbytes (transformers imports torchao on its own when it is
# installed): drop their known, harmless load-failure log lines. Imports nothing heavy; see loralab.optional.
mute_library_noise()
