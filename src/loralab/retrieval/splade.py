"""SPLADE first stage: chunks encoded once into sparse term-weight vectors (scipy CSR), searched by dot product.

Unlike BM25, a chunk's SPLADE vector depends on that chunk alone, so an add encodes only the chunks the index
does not hold yet and a delete drops rows. The matrix is saved as `g<generation>/vectors.npz` (scipy's
`save_npz`, no pickle) beside `chunk_ids.json`; `CURRENT` is switched atomically, as for BM25.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from loralab.artifacts.atomic import atomic_write_text
from loralab.retrieval.bm25 import empty_generation_folder
from loralab.data.schemas import Ranking
from loralab.errors import DataError


@dataclass(frozen=True)
class SpladeIndexConfig:
    model: str = "splade-tiny"  # a SPLADE masked LM: packaged alias, local folder or hub id
    max_length: int = 256  # chunks are cut to fit this
    batch_size: int = 16  # see rankers.splade.SpladeConfig
    dtype: str = "float32"

    def to_dict(self) -> dict:
        return asdict(self)


class SpladeEncoder:
    """The SPLADE ranker's `encode`: one CSR row per text."""

    def __init__(self, config: SpladeIndexConfig):
        from loralab.rankers.splade import SpladeConfig, SpladeRanker

        self.config = config
        self.ranker = SpladeRanker(SpladeConfig(model=config.model, max_length=config.max_length,
                                                batch_size=config.batch_size, dtype=config.dtype))
        self.tokenizer = self.ranker.tokenizer

    def encode(self, texts: list[str], show_progress: bool = False):
        return self.ranker.encode(texts, show_progress=show_progress)


class SpladeIndex:
    """Chunk ids and their SPLADE rows (`matrix` is None while the index holds no chunk)."""

    def __init__(self, ids: list[str], matrix, generation: int = 0):
        self.ids, self.matrix, self.generation = ids, matrix, generation

    def synced(self, want: list[str], encode, texts_of, generation: int) -> SpladeIndex:
        """A new index holding exactly the chunk ids `want`: rows kept where present, the rest encoded.

        `texts_of(ids)` gives the texts of the missing ids; `encode(texts)` their CSR rows.
        """
        from scipy import sparse

        position = {chunk_id: i for i, chunk_id in enumerate(self.ids)}
        kept = [c for c in want if c in position]
        missing = [c for c in want if c not in position]
        blocks = [self.matrix[[position[c] for c in kept]]] if kept else []
        if missing:
            texts = texts_of(missing)
            blocks.append(encode([texts[c] for c in missing]))
        matrix = sparse.vstack(blocks, format="csr", dtype=np.float32) if blocks else None
        return SpladeIndex(kept + missing, matrix, generation)

    def save(self, folder: Path) -> None:
        from scipy import sparse

        folder = Path(folder)
        target = empty_generation_folder(folder, self.generation)
        if self.matrix is not None:
            sparse.save_npz(target / "vectors.npz", self.matrix, compressed=True)
        (target / "chunk_ids.json").write_text(json.dumps(self.ids))
        atomic_write_text(folder / "CURRENT", target.name)
        for old in folder.glob("g*"):
            if old.name != target.name:
                shutil.rmtree(old, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path) -> SpladeIndex | None:
        """The current saved generation, or None when nothing was saved yet."""
        from scipy import sparse

        pointer = Path(folder) / "CURRENT"
        if not pointer.is_file():
            return None
        target = Path(folder) / pointer.read_text().strip()
        try:
            ids = json.loads((target / "chunk_ids.json").read_text())
            matrix = sparse.load_npz(target / "vectors.npz").tocsr() if ids else None
        except (OSError, ValueError) as exc:
            raise DataError(f"{target}: SPLADE index unreadable ({exc}); run `loralab index` again to rebuild it"
                            ) from None
        if matrix is not None and matrix.shape[0] != len(ids):
            raise DataError(f"{target}: {matrix.shape[0]} SPLADE rows for {len(ids)} chunk ids; rebuild the index")
        return cls(ids, matrix, int(target.name[1:]))

    def search(self, encoder: SpladeEncoder, queries: dict[str, str], k: int) -> Ranking:
        """Top-k chunk ids per query by sparse dot product (chunks sharing no term with the query are left out)."""
        qids = list(queries)
        ranking = Ranking()
        if self.matrix is None or not qids:
            return Ranking({qid: {} for qid in qids})
        scores = (encoder.encode([queries[q] for q in qids]) @ self.matrix.T).toarray()
        for row, qid in enumerate(qids):
            top = np.argpartition(-scores[row], k - 1)[:k] if k < scores.shape[1] else np.arange(scores.shape[1])
            ranking.add(qid, {self.ids[int(i)]: float(scores[row, i]) for i in top if scores[row, i] > 0})
        return ranking
