"""BEIR folders: corpus, queries and qrels/<split>.tsv, as .jsonl, .jsonl.gz or .tsv."""

from __future__ import annotations

from pathlib import Path

from loralab.data.jsonl import iter_jsonl, iter_lines, require_str
from loralab.data.schemas import Document, Qrels
from loralab.data.trec import read_qrels
from loralab.errors import DataError

_SUFFIXES = (".jsonl", ".jsonl.gz", ".tsv", ".tsv.gz")


def find_file(folder: Path, stem: str) -> Path:
    """`folder/stem` with the first suffix that exists, or a DataError listing what was looked for."""
    for suffix in _SUFFIXES:
        candidate = folder / f"{stem}{suffix}"
        if candidate.is_file():
            return candidate
    tried = ", ".join(f"{stem}{s}" for s in _SUFFIXES)
    raise DataError(f"{folder}: no {stem} file found (looked for {tried})")


def read_corpus(path: Path) -> dict[str, Document]:
    corpus: dict[str, Document] = {}
    seen: dict[str, int] = {}
    if ".tsv" in path.suffixes:
        for lineno, cols in _iter_tsv(path, min_cols=2):
            _unique(cols[0], lineno, seen, path, "document")
            corpus[cols[0]] = Document(id=cols[0], text=cols[1], title=cols[2] if len(cols) > 2 else "")
    else:
        for lineno, row in iter_jsonl(path):
            doc_id = _unique(require_str(row, "_id", path, lineno), lineno, seen, path, "document")
            text = require_str(row, "text", path, lineno, allow_empty=True)
            title = row.get("title") or ""
            if not isinstance(title, str):
                raise DataError(f"{path}:{lineno}: field 'title' must be a string")
            corpus[doc_id] = Document(id=doc_id, text=text, title=title)
    if not corpus:
        raise DataError(f"{path}: the corpus has no documents")
    return corpus


def read_queries(path: Path) -> dict[str, str]:
    seen: dict[str, int] = {}
    if ".tsv" in path.suffixes:
        queries = {_unique(cols[0], n, seen, path, "query"): cols[1] for n, cols in _iter_tsv(path, min_cols=2)}
    else:
        queries = {
            _unique(require_str(row, "_id", path, n), n, seen, path, "query"): require_str(row, "text", path, n)
            for n, row in iter_jsonl(path)
        }
    if not queries:
        raise DataError(f"{path}: the queries file has no queries")
    return queries


def _unique(item_id: str, lineno: int, seen: dict[str, int], path: Path, what: str) -> str:
    """`item_id`, recorded in `seen`; a DataError naming both lines when it was seen before."""
    if item_id in seen:
        raise DataError(
            f"{path}:{lineno}: {what} id '{item_id}' already used on line {seen[item_id]}; ids must be unique"
        )
    seen[item_id] = lineno
    return item_id


def load_beir(folder: Path, split: str = "test") -> tuple[dict[str, Document], dict[str, str], Qrels]:
    """Corpus, the queries judged in `split`, and that split's qrels."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: not a directory (a BEIR folder holds corpus.jsonl, queries.jsonl, qrels/)")
    qrels_path = folder / "qrels" / f"{split}.tsv"
    if not qrels_path.is_file():
        have = sorted(p.stem for p in (folder / "qrels").glob("*.tsv")) if (folder / "qrels").is_dir() else []
        raise DataError(f"{qrels_path}: no qrels for split '{split}' (available splits: {', '.join(have) or 'none'})")
    qrels = read_qrels(qrels_path)
    corpus = read_corpus(find_file(folder, "corpus"))
    all_queries = read_queries(find_file(folder, "queries"))
    missing = [q for q in qrels if q not in all_queries]
    if missing:
        raise DataError(f"{qrels_path}: {len(missing)} judged queries have no text in queries file (e.g. {missing[0]})")
    return corpus, {q: all_queries[q] for q in qrels}, qrels


def _iter_tsv(path: Path, min_cols: int):
    for lineno, line in iter_lines(path):
        cols = line.rstrip("\n").split("\t")
        if lineno == 1 and cols[0] in ("_id", "id", "query-id", "qid", "docid"):
            continue  # header
        if not line.strip():
            continue
        if len(cols) < min_cols:
            raise DataError(f"{path}:{lineno}: expected at least {min_cols} tab-separated columns, got {len(cols)}")
        if not cols[0].strip():
            raise DataError(f"{path}:{lineno}: the id column (first) is empty")
        yield lineno, cols
