"""Token windows over documents, counted by the embedding model's own tokenizer, with metadata per chunk.

Windows are cut on token offsets but the chunk text is sliced from the original string, so casing and
accents survive (an uncased tokenizer's decode would lower-case them). The title is repeated in front of
every chunk: a window from the middle of a long document otherwise loses what the document is about.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass

from loralab.data.schemas import Document
from loralab.errors import ConfigError


@dataclass(frozen=True)
class ChunkConfig:
    max_tokens: int = 512  # including the repeated title, excluding [CLS]/[SEP]
    overlap: int = 50

    def __post_init__(self) -> None:
        if self.max_tokens < 8:
            raise ConfigError(f"chunk max_tokens must be at least 8, got {self.max_tokens}")
        if not 0 <= self.overlap < self.max_tokens // 2:
            raise ConfigError(
                f"chunk overlap must be in [0, max_tokens/2), got overlap={self.overlap} for max_tokens={self.max_tokens}"
            )

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Chunk:
    doc_id: str
    index: int
    text: str  # title + window, what the retrievers see
    title: str
    token_count: int
    created_at: float

    @property
    def id(self) -> str:
        """Stable for the same content: re-adding an unchanged document is a no-op, a changed one gets new ids."""
        digest = hashlib.sha1(self.text.encode("utf-8")).hexdigest()[:12]
        return f"{self.doc_id}#{self.index}@{digest}"

    def metadata(self) -> dict:
        return {
            "doc_id": self.doc_id, "chunk_index": self.index, "title": self.title,
            "token_count": self.token_count, "created_at": self.created_at,
        }


def usable_max_tokens(tokenizer, config: ChunkConfig) -> int:
    """The window size that still fits the model once its special tokens are added."""
    limit = getattr(tokenizer, "model_max_length", None) or config.max_tokens
    if limit > 100_000:  # tokenizers without a limit report a huge sentinel
        return config.max_tokens
    return min(config.max_tokens, limit - tokenizer.num_special_tokens_to_add())


def _windows(word_starts: list[bool], size: int, overlap: int) -> Iterator[tuple[int, int]]:
    """(start, end) token spans of at most `size` tokens, cut between words where a word fits.

    Cutting inside a word ("Word88" -> "Word", "##8", "##8") would leave a fragment that re-tokenizes
    differently and reads as a different word, so cuts move back to the nearest word start.
    """
    n = len(word_starts)
    if n == 0:
        yield 0, 0
        return
    start = 0
    while True:
        end = min(start + size, n)
        while end < n and end > start + 1 and not word_starts[end]:
            end -= 1
        if end < n and not word_starts[end]:  # one word longer than a window: a hard cut is unavoidable
            end = min(start + size, n)
        yield start, end
        if end == n:
            return
        nxt = max(end - overlap, start + 1)
        while nxt > start + 1 and not word_starts[nxt]:
            nxt -= 1
        start = nxt


def _fit_title(title: str, tokenizer, budget: int) -> tuple[str, int]:
    """The title cut to `budget` tokens: a longer one would crowd the body out of every window."""
    if not title:
        return "", 0
    offsets = tokenizer(title, add_special_tokens=False, return_offsets_mapping=True, verbose=False)["offset_mapping"]
    if len(offsets) <= budget:
        return title, len(offsets)
    return title[: offsets[budget - 1][1]], budget


def chunk_document(doc: Document, tokenizer, config: ChunkConfig = ChunkConfig(), now: float | None = None) -> list[Chunk]:
    """Overlapping token windows of the body, each prefixed by the title; at least one chunk per document."""
    created = time.time() if now is None else now
    size = usable_max_tokens(tokenizer, config)
    title, title_budget = _fit_title(doc.title.strip(), tokenizer, size // 2)
    body_size = size - title_budget
    overlap = min(config.overlap, body_size // 2)
    enc = tokenizer(doc.text, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
    offsets = enc["offset_mapping"]
    words = enc.word_ids()
    word_starts = [i == 0 or words[i] != words[i - 1] for i in range(len(words))]
    chunks = []
    for index, (start, end) in enumerate(_windows(word_starts, body_size, overlap)):
        body = doc.text[offsets[start][0] : offsets[end - 1][1]] if end > start else doc.text.strip()
        text = f"{title}\n{body}" if title and body else (title or body)
        chunks.append(Chunk(doc.id, index, text, title, title_budget + (end - start), created))
    return chunks


def chunk_documents(docs: Iterable[Document], tokenizer, config: ChunkConfig = ChunkConfig()) -> list[Chunk]:
    now = time.time()
    return [chunk for doc in docs for chunk in chunk_document(doc, tokenizer, config, now)]
