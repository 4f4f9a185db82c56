"""How tokenizers split numbers, prices and text, and what that means for LLM price prediction.

The seed's finding: LLaMA-3 writes every number 0-999 as one token, so the top-K next tokens after "Price is $"
are K whole candidate prices. A tokenizer that splits digits needs several steps per price (see
`loralab.tasks.regress.number_decoding`, which continues each candidate greedily)."""

from __future__ import annotations

from dataclasses import dataclass, field

from loralab.errors import LoralabError

DEFAULT_MODELS = ("smollm2-135m-instruct", "minilm")
SAMPLES = ("7", "42", "999", "1000", "49.99", "1299.99", "£49.99", "$1,299.00", "€0.50",
           "Price is £149", "LEGO Star Wars X-Wing Starfighter 75218 Building Kit")


@dataclass
class TokenizerReport:
    model: str
    vocab_size: int
    kind: str  # the tokenizers backend model: BPE, WordPiece, Unigram
    tokens_per_number: dict[str, float]  # mean tokens for 1-digit, 2-digit, 3-digit numbers
    single_token_1_999: float  # fraction of 1..999 written as one token
    price_tokens: float  # mean tokens of "49.99"-style prices over a price grid
    splits: dict[str, list[str]] = field(default_factory=dict)
    verdict: str = ""


def _pieces(tokenizer, text: str) -> list[str]:
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    if getattr(tokenizer, "is_fast", False):
        return [tokenizer.decode([i]) for i in ids]
    return tokenizer.convert_ids_to_tokens(ids)


def _count(tokenizer, text: str) -> int:
    return len(tokenizer(text, add_special_tokens=False)["input_ids"])


def analyze_tokenizer(name: str, tokenizer) -> TokenizerReport:
    groups = {"1-digit": range(1, 10), "2-digit": range(10, 100), "3-digit": range(100, 1000)}
    per_group = {g: sum(_count(tokenizer, str(n)) for n in r) / len(r) for g, r in groups.items()}
    single = sum(_count(tokenizer, str(n)) == 1 for n in range(1, 1000)) / 999
    prices = [f"{p / 100:.2f}" for p in range(99, 100_000, 997)]
    backend = getattr(getattr(tokenizer, "backend_tokenizer", None), "model", None)
    report = TokenizerReport(
        model=name, vocab_size=len(tokenizer), kind=type(backend).__name__ if backend else type(tokenizer).__name__,
        tokens_per_number=per_group, single_token_1_999=single,
        price_tokens=sum(_count(tokenizer, p) for p in prices) / len(prices),
        splits={s: _pieces(tokenizer, s) for s in SAMPLES},
    )
    report.verdict = _verdict(report)
    return report


def _verdict(r: TokenizerReport) -> str:
    if r.tokens_per_number["3-digit"] <= 1.05:
        return ("numbers up to 999 are single tokens: the top-K next tokens are whole candidate prices, "
                "so top-K weighting needs no continuation (the seed's LLaMA-3 setting)")
    if r.tokens_per_number["3-digit"] >= 2.95:
        return (f"digits are split one per token ({r.price_tokens:.1f} tokens per £xx.xx price): the first "
                "token is only the leading digit, so top-K weighting must finish each candidate by continuation; "
                "round targets to whole pounds to shorten what the model must learn")
    return (f"numbers split irregularly ({r.single_token_1_999:.0%} of 1-999 are one token, the rest split at "
            "vocabulary boundaries such as '129'+'9'): digits of one place value land in different tokens, which "
            "makes prices harder to learn as text; prefer a digit-split or whole-number tokenizer for generated prices")


def compare_tokenizers(models: list[str] | None = None) -> list[TokenizerReport]:
    """One report per installed model; models whose tokenizer cannot be loaded are skipped with a note."""
    from loralab.artifacts.load import load_tokenizer

    reports = []
    for name in models or DEFAULT_MODELS:
        try:
            tokenizer = load_tokenizer(name)
        except LoralabError as exc:
            if models:  # asked for by name: say so
                raise
            reports.append(TokenizerReport(name, 0, "not installed", {}, 0.0, 0.0, verdict=str(exc)))
            continue
        reports.append(analyze_tokenizer(name, tokenizer))
    return reports


def render_table(reports: list[TokenizerReport]) -> str:
    """Markdown: one row per tokenizer, then its sample splits and verdict."""
    lines = ["| model | kind | vocab | tokens: 1-digit | 2-digit | 3-digit | 1-999 single-token | tokens per £xx.xx |",
             "|---|---|---|---|---|---|---|---|"]
    for r in reports:
        t = r.tokens_per_number
        if not t:
            lines.append(f"| {r.model} | {r.kind} | | | | | | |")
            continue
        lines.append(f"| {r.model} | {r.kind} | {r.vocab_size:,} | {t['1-digit']:.2f} | {t['2-digit']:.2f} | "
                     f"{t['3-digit']:.2f} | {r.single_token_1_999:.1%} | {r.price_tokens:.2f} |")
    for r in reports:
        lines += ["", f"**{r.model}**: {r.verdict}"]
        lines += [f"- `{s}` → {' · '.join(repr(p) for p in pieces)}" for s, pieces in r.splits.items()]
    return "\n".join(lines)
