"""Named datasets shipped with loralab; a name works wherever a dataset path is accepted."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from loralab.data.beir import load_beir
from loralab.data.schemas import RerankDataset
from loralab.data.trec import read_run
from loralab.errors import DataError, UnknownNameError

BUILTIN_DIR = Path(__file__).parent / "builtin"


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    kind: str  # "rerank" (queries + candidates + qrels) or "train" (training groups)
    folder: Path
    description: str
    loader: Callable[[], RerankDataset] | None = None


_REGISTRY: dict[str, DatasetSpec] = {}


def register(spec: DatasetSpec) -> None:
    if spec.name in _REGISTRY:
        raise ValueError(f"dataset '{spec.name}' is already registered")
    _REGISTRY[spec.name] = spec


def list_datasets() -> list[DatasetSpec]:
    return list(_REGISTRY.values())


def get_spec(name: str) -> DatasetSpec:
    if name not in _REGISTRY:
        raise UnknownNameError(f"unknown dataset '{name}'; known datasets: {', '.join(_REGISTRY)} (or pass a folder path)")
    return _REGISTRY[name]


def load_rerank_dataset(name_or_path: str | Path, split: str = "test", relevance_level: int = 1) -> RerankDataset:
    """A registered dataset by name, or a BEIR folder by path (candidates from `candidates.trec[.gz]` if present)."""
    text = str(name_or_path)
    if text in _REGISTRY:
        spec = _REGISTRY[text]
        if spec.loader is None:
            raise DataError(f"dataset '{text}' is a {spec.kind} dataset, not a re-ranking evaluation set")
        return spec.loader()
    path = Path(text)
    if not path.exists():
        raise UnknownNameError(
            f"'{text}' is neither a known dataset ({', '.join(_REGISTRY)}) nor an existing folder"
        )
    return _load_beir_folder(path, split=split, relevance_level=relevance_level)


def _load_beir_folder(folder: Path, split: str, relevance_level: int, name: str | None = None) -> RerankDataset:
    corpus, queries, qrels = load_beir(folder, split)
    candidates = None
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.name != "SOURCE.md")
    for cand_name in ("candidates.trec", "candidates.trec.gz", "bm25_top100.trec.gz"):
        if (folder / cand_name).is_file():
            candidates = read_run(folder / cand_name).restrict(queries)
            missing = [d for docs in candidates.scores.values() for d in docs if d not in corpus]
            if missing:
                raise DataError(f"{folder / cand_name}: candidate {missing[0]} is not in the corpus")
            break
    return RerankDataset(
        name=name or folder.name,
        corpus=corpus,
        queries=queries,
        qrels=qrels,
        relevance_level=relevance_level,
        candidates=candidates,
        files=files,
    )


def _builtin(name: str, folder: str, split: str, relevance_level: int) -> Callable[[], RerankDataset]:
    return lambda: _load_beir_folder(BUILTIN_DIR / folder, split, relevance_level, name=name)


register(
    DatasetSpec(
        name="trec-dl-2019",
        kind="rerank",
        folder=BUILTIN_DIR / "trec-dl-2019-passage",
        description="TREC DL 2019 passage: 43 queries x BM25 top-100, graded qrels 0-3 (relevant >= 2)",
        loader=_builtin("trec-dl-2019", "trec-dl-2019-passage", "test", relevance_level=2),
    )
)
register(
    DatasetSpec(
        name="scifact",
        kind="rerank",
        folder=BUILTIN_DIR / "beir-scifact",
        description="BEIR SciFact test: 300 claims over 5,183 abstracts; candidates from BM25 (bm25s) top-100",
        loader=_builtin("scifact", "beir-scifact", "test", relevance_level=1),
    )
)
register(
    DatasetSpec(
        name="scifact-train",
        kind="train",
        folder=BUILTIN_DIR / "beir-scifact-train-triples",
        description="SciFact train: 919 x {query, positive, 8 BM25 hard negatives}, disjoint from the test split",
    )
)
register(
    DatasetSpec(
        name="sst2",
        kind="classify",
        folder=BUILTIN_DIR / "sst2",
        description="GLUE SST-2 sentiment: train 60,614 / validation 6,735 / test_glue_dev 872 (GLUE dev)",
    )
)
register(
    DatasetSpec(
        name="imdb",
        kind="classify",
        folder=BUILTIN_DIR / "imdb",
        description="aclImdb v1.0 sentiment: train 10,000 / test 5,000 (balanced sample)",
    )
)
register(
    DatasetSpec(
        name="hh-rlhf-pairs",
        kind="preference",
        folder=BUILTIN_DIR / "hh-rlhf-pairs",
        description="Anthropic HH-RLHF test files as 8,505 {prompt, response_a, response_b, winner a/b} pairs (no ties); "
        "split train/validation/test by prompt with a seed",
    )
)
register(
    DatasetSpec(
        name="amazon-uk-prices",
        kind="regress",
        folder=BUILTIN_DIR / "amazon-uk-prices",
        description="Amazon.co.uk products (title, category, brand) with prices in GBP: train 6,838 / test 1,709",
    )
)
register(
    DatasetSpec(
        name="amazon-uk-instructions",
        kind="sft",
        folder=BUILTIN_DIR / "amazon-uk-prices",
        description="Instructions derived from amazon-uk-prices: product title -> top-level category or brand "
        "(real labels, templated instructions; see loralab.tasks.sft.data)",
    )
)


def data_files(spec: str | Path) -> list[Path]:
    """The files whose sha256 goes into a run manifest: a file, a folder's files, or a registered dataset's."""
    path = Path(str(spec))
    if path.is_file():
        return [path]
    folder = path if path.is_dir() else get_spec(str(spec)).folder
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name != "SOURCE.md")
