"""A spy on a ranker's real `encode` (not a mock: the model still runs)."""


def count_encoded(ranker) -> list[str]:
    """Wrap the ranker's real `encode` to record every text it encodes."""
    seen, encode = [], ranker.encode
    ranker.encode = lambda texts, **kw: (seen.extend(texts), encode(texts, **kw))[1]
    return seen
