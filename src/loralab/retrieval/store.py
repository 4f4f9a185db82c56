"""The index's source of truth: documents, chunks and BM25 tokens in one SQLite file.

SQLite gives atomic, durable transactions for free, so one commit here is the commit point of every add or
delete; the BM25 matrix and the vector store are derived from it and repaired from it after a crash.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path

from loralab.data.schemas import Document
from loralab.errors import DataError
from loralab.retrieval.chunking import Chunk

_SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (doc_id TEXT PRIMARY KEY, title TEXT NOT NULL, text TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS chunks (
  chunk_id TEXT PRIMARY KEY, doc_id TEXT NOT NULL, chunk_index INTEGER NOT NULL, title TEXT NOT NULL,
  text TEXT NOT NULL, token_count INTEGER NOT NULL, created_at REAL NOT NULL, bm25_tokens TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class ChunkStore:
    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            # A server opens the index on one thread and searches from a worker thread; SQLite itself is
            # serialized (threadsafety 3), so the per-thread check only gets in the way.
            self.conn = sqlite3.connect(str(self.path), isolation_level=None, timeout=30, check_same_thread=False)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=FULL")  # a commit must survive a crash, not just a process kill
            self.conn.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise DataError(f"{self.path}: cannot open the index store ({exc}); delete the index folder and re-index") from None

    def close(self) -> None:
        self.conn.close()

    # meta: a generation counter (bumped by every commit) and a pending flag (set while an operation runs)
    def get_meta(self, key: str, default: str = "") -> str:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    @property
    def generation(self) -> int:
        return int(self.get_meta("generation", "0"))

    def replace_documents(self, docs: list[Document], chunks: list[Chunk], tokens: list[list[str]]) -> set[str]:
        """Insert or overwrite `docs` and their chunks in one transaction; returns the chunk ids it dropped."""
        doc_ids = [d.id for d in docs]
        new_ids = {c.id for c in chunks}
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            old = set(self._chunk_ids_of(doc_ids))
            self._delete_rows(doc_ids)
            self.conn.executemany(
                "INSERT INTO docs(doc_id, title, text) VALUES (?, ?, ?)", [(d.id, d.title, d.text) for d in docs]
            )
            self.conn.executemany(
                "INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (c.id, c.doc_id, c.index, c.title, c.text, c.token_count, c.created_at, " ".join(t))
                    for c, t in zip(chunks, tokens)
                ],
            )
            self._bump()
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        return old - new_ids

    def delete_documents(self, doc_ids: list[str]) -> set[str]:
        """Remove documents and their chunks in one transaction; returns the removed chunk ids."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            removed = set(self._chunk_ids_of(doc_ids))
            self._delete_rows(doc_ids)
            self._bump()
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        return removed

    def _bump(self) -> None:
        self.set_meta("generation", str(self.generation + 1))

    def _chunk_ids_of(self, doc_ids: Iterable[str]) -> list[str]:
        ids = list(doc_ids)
        out: list[str] = []
        for start in range(0, len(ids), 500):  # SQLite caps bound parameters per statement
            part = ids[start : start + 500]
            marks = ",".join("?" * len(part))
            out += [r[0] for r in self.conn.execute(f"SELECT chunk_id FROM chunks WHERE doc_id IN ({marks})", part)]
        return out

    def _delete_rows(self, doc_ids: list[str]) -> None:
        self.conn.executemany("DELETE FROM chunks WHERE doc_id = ?", [(d,) for d in doc_ids])
        self.conn.executemany("DELETE FROM docs WHERE doc_id = ?", [(d,) for d in doc_ids])

    def chunk_ids(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT chunk_id FROM chunks ORDER BY rowid")]

    def bm25_corpus(self) -> tuple[list[str], list[list[str]]]:
        """Chunk ids and their stored BM25 tokens, in a stable order."""
        rows = self.conn.execute("SELECT chunk_id, bm25_tokens FROM chunks ORDER BY rowid").fetchall()
        return [r[0] for r in rows], [r[1].split() for r in rows]

    def chunk_texts(self, chunk_ids: list[str]) -> dict[str, str]:
        return dict(self._select("SELECT chunk_id, text FROM chunks WHERE chunk_id IN ({})", chunk_ids))

    def chunk_rows(self, chunk_ids: list[str]) -> dict[str, dict]:
        sql = "SELECT chunk_id, doc_id, chunk_index, title, text, token_count, created_at FROM chunks WHERE chunk_id IN ({})"
        keys = ("doc_id", "chunk_index", "title", "text", "token_count", "created_at")
        return {r[0]: dict(zip(keys, r[1:])) for r in self._select(sql, chunk_ids)}

    def doc_of(self, chunk_ids: list[str]) -> dict[str, str]:
        return dict(self._select("SELECT chunk_id, doc_id FROM chunks WHERE chunk_id IN ({})", chunk_ids))

    def documents(self, doc_ids: list[str] | None = None) -> dict[str, Document]:
        if doc_ids is None:
            rows = self.conn.execute("SELECT doc_id, title, text FROM docs").fetchall()
        else:
            rows = self._select("SELECT doc_id, title, text FROM docs WHERE doc_id IN ({})", doc_ids)
        return {r[0]: Document(id=r[0], title=r[1], text=r[2]) for r in rows}

    def count(self) -> tuple[int, int]:
        docs = self.conn.execute("SELECT COUNT(*) FROM docs").fetchone()[0]
        chunks = self.conn.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
        return docs, chunks

    def _select(self, sql: str, ids: list[str]) -> list[tuple]:
        rows: list[tuple] = []
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            rows += self.conn.execute(sql.format(",".join("?" * len(part))), part).fetchall()
        return rows
