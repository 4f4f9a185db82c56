"""Prompt templates are YAML files (package data in loralab/prompts/, or any path), never code strings.

A template has a `mode` (pointwise, listwise, rating, querygen), a `system` and a `user` message with
`{placeholders}`, and mode-specific keys (`positive`/`negative` answer words, `passage` line format, `shots`: worked
examples sent as earlier user/assistant turns, which a 135M chat model follows where in-message examples fail). It renders to chat
messages for chat models and chat endpoints, and to plain text for completions endpoints.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import yaml

from loralab.errors import ConfigError

PLACEHOLDERS = {
    "pointwise": {"query", "document"},
    "rating": {"query", "document"},
    "listwise": {"query", "num", "passages"},
    "querygen": {"passage"},  # write the query a passage answers (label-free training data)
}
DEFAULT_TEMPLATES = {"pointwise": "pointwise_yes_no", "listwise": "listwise_rankgpt", "rating": "rating_0_1",
                     "querygen": "querygen_two_shot"}


@dataclass(frozen=True)
class Prompt:
    """One request: chat messages, plus the same content as plain text for completions endpoints."""

    messages: list[dict[str, str]]

    @property
    def text(self) -> str:
        return "\n\n".join(m["content"] for m in self.messages) + "\n\nAnswer:"


@dataclass(frozen=True)
class PromptTemplate:
    name: str
    mode: str
    system: str
    user: str
    positive: tuple[str, ...] = ("Yes",)
    negative: tuple[str, ...] = ("No",)
    passage: str = "[{id}] {document}"
    # Worked examples sent as earlier turns: ((placeholder, value) pairs for `user`, the assistant's reply)
    shots: tuple[tuple[tuple[tuple[str, str], ...], str], ...] = ()
    source: str = field(default="", compare=False)

    def render(self, **values: str | int) -> Prompt:
        messages = [{"role": "system", "content": self.system}] if self.system else []
        for user, assistant in self.shots:
            messages += [{"role": "user", "content": self.user.format(**{**values, **dict(user)})},
                         {"role": "assistant", "content": assistant}]
        messages.append({"role": "user", "content": self.user.format(**values)})
        return Prompt(messages)

    def passages(self, texts: list[str]) -> str:
        """The numbered passage block of a listwise prompt (ids are 1-based)."""
        return "\n".join(self.passage.format(id=i + 1, document=t) for i, t in enumerate(texts))


def builtin_templates() -> list[str]:
    return sorted(p.name.removesuffix(".yaml") for p in resources.files("loralab.prompts").iterdir()
                  if p.name.endswith(".yaml"))


def _read(name_or_path: str) -> tuple[str, str]:
    path = Path(name_or_path).expanduser()
    if path.suffix in (".yaml", ".yml") or path.is_file():
        if not path.is_file():
            raise ConfigError(f"{path}: prompt template file not found")
        return str(path), path.read_text(encoding="utf-8")
    resource = resources.files("loralab.prompts") / f"{name_or_path}.yaml"
    if not resource.is_file():
        raise ConfigError(
            f"unknown prompt template '{name_or_path}': not a file; built-in templates: {', '.join(builtin_templates())}"
        )
    return f"loralab/prompts/{name_or_path}.yaml", resource.read_text(encoding="utf-8")


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def load_template(name_or_path: str | None, mode: str) -> PromptTemplate:
    """A built-in template name (see `builtin_templates()`) or a YAML path; validated for `mode`."""
    source, text = _read(name_or_path or DEFAULT_TEMPLATES[mode])
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: invalid YAML ({exc})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("user"), str):
        raise ConfigError(f"{source}: a prompt template needs a 'user' message (string)")
    if raw.get("mode", mode) != mode:
        raise ConfigError(f"{source}: template is for mode '{raw.get('mode')}', but the ranker is '{mode}'")
    try:
        found = _fields(raw["user"])
    except ValueError as exc:
        raise ConfigError(f"{source}: bad placeholder in 'user' ({exc}); write literal braces as {{{{ }}}}") from None
    need = PLACEHOLDERS[mode]
    if found != need:
        missing, unknown = sorted(need - found), sorted(found - need)
        raise ConfigError(
            f"{source}: 'user' of a {mode} template must use exactly {{{'}, {'.join(sorted(need))}}}"
            + (f"; missing {missing}" if missing else "") + (f"; unknown {unknown}" if unknown else "")
        )
    words = {k: tuple(raw.get(k) or default) for k, default in (("positive", ("Yes",)), ("negative", ("No",)))}
    return PromptTemplate(
        name=Path(source).stem, mode=mode, system=str(raw.get("system") or ""), user=raw["user"],
        passage=str(raw.get("passage", "[{id}] {document}")), shots=_shots(raw.get("shots"), need, source),
        source=source, **words,
    )


def _shots(raw, need: set[str], source: str) -> tuple:
    """`shots: [{passage: ..., answer: ...}]`: the placeholders' values and the assistant's reply of each example."""
    if raw is None:
        return ()
    keys = ", ".join(sorted(need))
    if not isinstance(raw, list):
        raise ConfigError(f"{source}: 'shots' must be a list of examples, each with {keys} and answer")
    shots = []
    for i, shot in enumerate(raw):
        if not isinstance(shot, dict) or set(shot) != need | {"answer"} or not all(isinstance(v, str) for v in shot.values()):
            raise ConfigError(f"{source}: shots[{i}] must have exactly the string keys {keys} and answer")
        shots.append((tuple((k, shot[k]) for k in sorted(need)), shot["answer"]))
    return tuple(shots)
