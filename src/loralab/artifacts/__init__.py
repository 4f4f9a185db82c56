"""Everything on disk: run folders (write and open), the one model loader, merging, atomic saves."""
