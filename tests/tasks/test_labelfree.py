"""The label-free chain: query-generation template and cleaning, ensembles, folds, Margin-MSE, the chain end to end
on real packaged models with a SIGKILL in the middle of query generation."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import yaml

from loralab.errors import ConfigError, DataError


def test_querygen_template_sends_its_examples_as_chat_turns(tmp_path):
    from loralab.rankers.prompt.templates import load_template

    prompt = load_template(None, "querygen").render(passage="Fleas live for weeks.")
    roles = [m["role"] for m in prompt.messages]
    assert roles == ["system", "user", "assistant", "user", "assistant", "user"]
    assert prompt.messages[-1]["content"] == "Passage: Fleas live for weeks."
    assert prompt.messages[2]["content"] == "how much does a concrete floor cost"
    bad = tmp_path / "bad.yaml"
    bad.write_text("mode: querygen\nuser: 'Passage: {passage}'\nshots: [{passage: x}]\n")
    with pytest.raises(ConfigError, match=r"shots\[0\] must have exactly the string keys passage and answer"):
        load_template(str(bad), "querygen")


def test_generated_replies_are_cleaned_or_dropped_with_a_reason():
    from loralab.tasks.rerank.labelfree.config import QueryGenConfig
    from loralab.tasks.rerank.labelfree.generate import clean_query

    cfg = QueryGenConfig(max_new_tokens=24)
    row = lambda text, out=8, error=None: {"reply": text, "tokens_out": out, "error": error}  # noqa: E731
    assert clean_query(row('Query: "how long do fleas live"\nextra'), cfg) == ("how long do fleas live", None)
    assert clean_query(row("fleas"), cfg) == (None, "too_short")
    assert clean_query(row(" ".join(["word"] * 17)), cfg) == (None, "too_long")
    assert clean_query(row("a copy of the passage that never stops", out=24), cfg) == (None, "unfinished")
    assert clean_query(row("", error="timeout"), cfg) == (None, "error")


def test_sampled_queries_need_a_temperature_and_a_repeat_for_one_passage_is_dropped():
    from loralab.tasks.rerank.labelfree.config import QueryGenConfig, chain_config
    from loralab.tasks.rerank.labelfree.generate import clean_rows, query_ids

    with pytest.raises(ConfigError, match="queries_per_passage 3 needs sampling"):
        chain_config({"corpus": "c", "out": "o", "generator": {"queries_per_passage": 3}})
    with pytest.raises(ConfigError, match="0 < top_p <= 1"):
        chain_config({"corpus": "c", "out": "o", "generator": {"temperature": 1.0, "top_p": 0}})
    cfg = QueryGenConfig(queries_per_passage=3, temperature=1.0)
    assert query_ids("p1", QueryGenConfig()) == ["gen-p1"]
    assert query_ids("p1", cfg) == ["gen-p1-0", "gen-p1-1", "gen-p1-2"]
    rows = [{"passage_id": p, "reply": text, "tokens_out": 5, "error": None}
            for p, text in [("a", "cost of floors"), ("a", "Cost of floors"), ("b", "cost of floors"), ("a", "x")]]
    clean_rows(rows, cfg)
    assert [(r["query"], r["dropped"]) for r in rows] == [
        ("cost of floors", None), (None, "duplicate"), ("cost of floors", None), (None, "too_short")]


def test_sampling_settings_at_their_defaults_keep_the_committed_chains_valid():
    from loralab.tasks.rerank.labelfree.chain import step_folder
    from loralab.tasks.rerank.labelfree.config import load_chain_config

    path = Path(__file__).parents[2] / "experiments" / "labelfree-dl19-more" / "fold0.yaml"
    config = load_chain_config(path, out=str(path.parent / "chain-fold0"))
    assert all(step_folder(config, step).done() for step in ("generate", "mine", "score", "groups"))
    generator = {"model": "smollm2-135m-instruct", "batch_size": 8, "temperature": 1.0}
    sampled = load_chain_config(path, out=str(path.parent / "chain-fold0"), generator=generator)
    with pytest.raises(ConfigError, match="made with other settings"):
        step_folder(sampled, "generate").done()


def test_ensemble_calibrates_each_member_per_query():
    from loralab.rankers.ensemble import EnsembleConfig, combine

    a, b = [0.9, 0.5, 0.1], [3.0, 9.0, 6.0]
    fused = combine([a, b], None, "zscore")
    # a member's scale and offset do not change its say
    assert combine([[x * 100 - 7 for x in a], b], None, "zscore") == pytest.approx(fused)
    assert combine([a, b], [1.0, 0.0], "zscore") == pytest.approx(combine([a, a], None, "zscore"))
    assert combine([a, b], None, "minmax") == pytest.approx([0.5, 0.75, 0.25])
    assert combine([[1.0, 1.0], [2.0, 1.0]], None, "zscore") == pytest.approx([0.5, -0.5])
    with pytest.raises(ConfigError, match="at least two members"):
        EnsembleConfig(members=[{"ranker": "bi-encoder"}])
    with pytest.raises(ConfigError, match="weights"):
        EnsembleConfig(members=[{"ranker": "bi-encoder"}, {"ranker": "splade"}], weights=[1.0])
    with pytest.raises(ConfigError, match="calibration"):
        EnsembleConfig(members=[{"ranker": "bi-encoder"}, {"ranker": "splade"}], calibration="rank")


def test_ensemble_ranker_equals_the_combination_of_its_members(tiny_bert, tiny_cross_encoder):
    from loralab.data.schemas import Document
    from loralab.rankers.ensemble import combine
    from loralab.rankers.registry import build_ranker, ranker_config

    members = [{"ranker": "bi-encoder", "model": str(tiny_bert)}, {"ranker": "cross-encoder", "model": str(tiny_cross_encoder)}]
    docs = [Document("a", "flea life cycle"), Document("b", "concrete floors"), Document("c", "cats sleep")]
    ensemble = build_ranker(ranker_config("ensemble", members=members, weights=[2.0, 1.0]))
    each = [build_ranker(ranker_config(m["ranker"], model=m["model"])).score("fleas", docs) for m in members]
    assert ensemble.score("fleas", docs) == pytest.approx(combine(each, [2.0, 1.0], "zscore"), abs=1e-5)
    assert ensemble.score("fleas", []) == []


def test_dl19_folds_are_two_fixed_disjoint_halves():
    from loralab.data.registry import load_rerank_dataset
    from loralab.tasks.rerank.labelfree.config import HoldoutConfig
    from loralab.tasks.rerank.folds import fold_query_ids
    from loralab.tasks.rerank.labelfree.corpus import held_out_pool

    dataset = load_rerank_dataset("trec-dl-2019")
    first, second = fold_query_ids(dataset, 2, 0), fold_query_ids(dataset, 2, 1)
    assert (len(first), len(second)) == (22, 21) and not set(first) & set(second)
    assert sorted(first + second) == sorted(q for q in dataset.queries if q in dataset.qrels)
    pool = held_out_pool(HoldoutConfig("trec-dl-2019", 2, 0))
    assert pool == {d for q in first for d, _ in dataset.candidates.ranked(q)}
    assert len(pool) < len(dataset.corpus)


def test_margin_mse_matches_the_teachers_margins():
    from loralab.tasks.rerank.train import group_loss

    teacher = torch.tensor([[5.0, 1.0, 3.0]])
    same_margins = torch.tensor([2.0, -2.0, 0.0], requires_grad=True)  # teacher minus 3: margins equal
    loss, _ = group_loss(same_margins, teacher, "margin-mse")
    assert loss.item() == pytest.approx(0.0)
    flat = torch.zeros(3, requires_grad=True)
    loss, _ = group_loss(flat, teacher, "margin-mse")
    assert loss.item() == pytest.approx((16 + 4) / 2)
    loss.backward()
    assert flat.grad[0] < 0 and flat.grad[1] > 0  # raise the positive, lower the weakest negative
    with pytest.raises(DataError, match="teacher"):
        group_loss(flat, torch.zeros(1, dtype=torch.long), "margin-mse")


def test_groups_file_teacher_scores_are_checked(tmp_path):
    from loralab.tasks.rerank.train import read_groups_jsonl

    row = {"query": "q", "positive": "p", "negatives": ["n1", "n2"], "teacher_scores": [1.0, 0.5, 0.2]}
    path = tmp_path / "g.jsonl"
    path.write_text(json.dumps(row) + "\n")
    assert read_groups_jsonl(path)[0].teacher == [1.0, 0.5, 0.2]
    path.write_text(json.dumps({**row, "teacher_scores": [1.0, 0.5]}) + "\n")
    with pytest.raises(DataError, match=r"g.jsonl:1: field 'teacher_scores' must be 3 finite numbers"):
        read_groups_jsonl(path)
    path.write_text(json.dumps(row) + "\n" + json.dumps({k: v for k, v in row.items() if k != "teacher_scores"}) + "\n")
    with pytest.raises(DataError, match="1 of 2 groups have 'teacher_scores'"):
        read_groups_jsonl(path)


def test_margin_mse_trains_from_stored_teacher_scores(tmp_path, tiny_bert):
    from loralab.methods.configs import method_config, train_config
    from loralab.training.trainer import train

    rows = [{"query_id": f"q{i}", "query": f"question {i} about fleas", "positive": f"fleas {i} live for weeks",
             "negatives": [f"unrelated {i} {j}" for j in range(3)], "teacher_scores": [4.0, 1.0, 0.5, 0.0]}
            for i in range(12)]
    path = tmp_path / "groups.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    cfg = train_config(model=str(tiny_bert), data=str(path), max_steps=3, batch_size=4, eval_steps=3, save_steps=3,
                       max_length=32, learning_rate=1e-3, eval_fraction=0.25, num_negatives=3, loss="margin-mse")
    result = train(method_config("lora", r=4, alpha=8, target_modules=["query", "value"]), cfg, tmp_path / "run")
    assert result.metrics["global_step"] == 3
    assert 0 < result.metrics["eval"]["eval_loss"] < 1e3
    with pytest.raises(DataError, match="drop --teacher"):
        train(method_config("lora"), train_config(model=str(tiny_bert), data=str(path), max_steps=1, num_negatives=3,
                                                  teacher="minilm"), tmp_path / "run2")


def _corpus_folder(tmp_path: Path, n: int = 24) -> Path:
    """A BEIR folder of real DL19 passages (its queries and qrels are placeholders the chain never reads)."""
    from loralab.data.registry import load_rerank_dataset

    corpus = load_rerank_dataset("trec-dl-2019").corpus
    folder = tmp_path / "corpus"
    (folder / "qrels").mkdir(parents=True)
    ids = sorted(corpus)[:n]
    (folder / "corpus.jsonl").write_text("".join(
        json.dumps({"_id": d, "title": corpus[d].title, "text": corpus[d].text}) + "\n" for d in ids))
    (folder / "queries.jsonl").write_text('{"_id": "q", "text": "unused"}\n')
    (folder / "qrels" / "test.tsv").write_text(f"query-id\tcorpus-id\tscore\nq\t{ids[0]}\t1\n")
    return folder


@pytest.mark.slow
def test_chain_resumes_query_generation_after_a_kill_and_caches_every_step(tmp_path):
    from loralab.tasks.rerank.labelfree.chain import run_chain
    from loralab.tasks.rerank.labelfree.config import load_chain_config
    from loralab.tasks.rerank.train import read_groups_jsonl

    out = tmp_path / "chain"
    config = {"corpus": str(_corpus_folder(tmp_path)), "out": str(out), "passages": 20, "keep_top": 5,
              "negatives": 3, "generator": {"max_new_tokens": 20},
              "mining": {"bm25": 4, "dense": 2, "dense_model": "minilm", "max_length": 128},
              "teacher": {"ranker": "bi-encoder", "model": "minilm", "max_length": 128}}
    path = tmp_path / "chain.yaml"
    path.write_text(yaml.safe_dump(config))
    partial = out / "generate" / "generate.partial.jsonl"
    env = {**os.environ, "TOKENIZERS_PARALLELISM": "false"}
    proc = subprocess.Popen([sys.executable, "-m", "loralab", "labelfree", str(path), "--until", "generate"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while not (partial.is_file() and partial.read_text().count("\n") >= 16):
        assert proc.poll() is None and time.time() < deadline, "generation ended before it could be killed"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = [json.loads(line) for line in partial.read_text().splitlines()]
    assert len(before) == 16 and not (out / "generate" / "step.json").exists()

    states = []
    summaries = run_chain(load_chain_config(path), on_step=lambda step, state, _: states.append((step, state)))
    assert states == [(s, st) for s in ("generate", "mine", "score", "groups") for st in ("running", "done")]
    generated = [json.loads(line) for line in gzip.open(out / "generate" / "generate.jsonl.gz", "rt")]
    assert summaries["generate"]["resumed_rows"] == 16 and len(generated) == 20
    assert {r["passage_id"]: r["seconds"] for r in generated if r["passage_id"] in {b["passage_id"] for b in before}} \
        == {b["passage_id"]: b["seconds"] for b in before}  # the 16 finished rows were kept, not regenerated
    assert not partial.exists()
    assert summaries["generate"]["queries"] >= 10  # SmolLM2 writes a usable query for most passages

    mined = [json.loads(line) for line in gzip.open(out / "mine" / "mine.jsonl.gz", "rt")]
    assert all(m["passage_id"] not in m["candidates"] and len(m["candidates"]) == 6 for m in mined)
    groups = read_groups_jsonl(out / "groups" / "groups.jsonl.gz")
    assert len(groups) == summaries["groups"]["kept"] > 0
    assert all(len(g.negatives) == 3 and len(g.teacher) == 4 for g in groups)
    scored = {r["query_id"]: r for r in (json.loads(line) for line in gzip.open(out / "score" / "score.jsonl.gz", "rt"))}
    assert all(1 + sum(t > s["teacher"][0] for t in s["teacher"][1:]) <= 5 for s in (scored[g.query_id] for g in groups))

    states.clear()
    run_chain(load_chain_config(path), on_step=lambda step, state, _: states.append((step, state)))
    assert states == [(s, "cached") for s in ("generate", "mine", "score", "groups")]
    with pytest.raises(ConfigError, match="made with other settings"):
        run_chain(load_chain_config(path, keep_top=2))

    # a larger sample extends the smaller one: only the new passages are generated and scored
    grown = run_chain(load_chain_config(path, passages=23))
    assert grown["generate"]["resumed_rows"] == 20 and grown["generate"]["passages"] == 23
    assert grown["score"]["resumed_rows"] == summaries["score"]["queries"]
    assert grown["score"]["queries"] == grown["mine"]["queries"] >= summaries["score"]["queries"]


def test_crossfit_scores_each_fold_with_its_own_model(beir_folder, tiny_cross_encoder, tiny_bert, tmp_path):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from loralab.tasks.rerank.evaluate import load_task_dataset, run_crossfit, run_ranker
    from loralab.tasks.rerank.folds import fold_query_ids, restrict

    torch.manual_seed(5)
    other = tmp_path / "other-cross"
    AutoModelForSequenceClassification.from_pretrained(str(tiny_bert), num_labels=1).save_pretrained(other)
    AutoTokenizer.from_pretrained(str(tiny_bert)).save_pretrained(other)
    data = load_task_dataset(str(beir_folder))
    result = run_crossfit(data, "cross-encoder", [str(tiny_cross_encoder), str(other)])
    assert sorted(result.outputs.query_ids) == ["q1", "q2"] and result.metrics is not None
    assert result.config["crossfit"] == [str(tiny_cross_encoder), str(other)]
    second = run_ranker(restrict(data, fold_query_ids(data, 2, 1)), "cross-encoder", model=str(other))
    assert result.outputs.scores["q2"] == pytest.approx(second.outputs.scores["q2"])  # fold 2 by the second model
    assert any("fold 1/2 (1 queries) re-ranked by" in n for n in result.notes)
    with pytest.raises(ConfigError, match="one model per fold"):
        run_crossfit(data, "cross-encoder", [str(tiny_cross_encoder)])


def test_a_grown_step_killed_midway_keeps_both_its_finished_and_its_partial_rows(tmp_path):
    from loralab.tasks.rerank.labelfree.steps import StepFolder

    small = StepFolder(tmp_path, "generate", "k1", sample=2)
    small.finish([{"passage_id": "a"}, {"passage_id": "b"}], {})
    grown = StepFolder(tmp_path, "generate", "k1", sample=4)
    assert not grown.done()
    grown.append([{"passage_id": "c"}])  # the grown run is killed after one new row
    with open(grown.partial, "a") as handle:
        handle.write('{"passage_id": "d", "cut')  # ... in the middle of writing the next
    again = StepFolder(tmp_path, "generate", "k1", sample=4)
    assert [r["passage_id"] for r in again.resume(["a", "b", "c", "d"], "passage_id")] == ["a", "b", "c"]
    assert [r["passage_id"] for r in again.resume(["b", "c"], "passage_id")] == ["b", "c"]
    with pytest.raises(ConfigError, match="other settings"):
        StepFolder(tmp_path, "generate", "k2", sample=4).done()


@pytest.mark.slow
def test_several_sampled_queries_per_passage_are_seeded_and_resume_by_query(tmp_path):
    from loralab.tasks.rerank.labelfree.chain import run_chain
    from loralab.tasks.rerank.labelfree.config import chain_config

    generator = {"max_new_tokens": 20, "queries_per_passage": 3, "temperature": 1.0, "top_p": 0.95, "top_k": 25}
    raw = {"corpus": str(_corpus_folder(tmp_path)), "out": str(tmp_path / "a"), "passages": 3, "generator": generator}
    summary = run_chain(chain_config(raw), until="generate")["generate"]
    rows = [json.loads(line) for line in gzip.open(tmp_path / "a" / "generate" / "generate.jsonl.gz", "rt")]
    assert summary["passages"] == 3 and summary["queries_per_passage"] == 3 and len(rows) == 9
    assert [r["query_id"] for r in rows[:3]] == [f"gen-{rows[0]['passage_id']}-{k}" for k in range(3)]
    assert summary["queries"] + sum(summary["dropped"].values()) == 9
    assert len({r["reply"] for r in rows}) > 3  # samples, not one greedy reply per passage
    again = run_chain(chain_config({**raw, "out": str(tmp_path / "b")}), until="generate")["generate"]
    assert [json.loads(line)["reply"] for line in gzip.open(tmp_path / "b" / "generate" / "generate.jsonl.gz", "rt")] \
        == [r["reply"] for r in rows] and again["queries"] == summary["queries"]  # seeded: the same samples
    grown = run_chain(chain_config({**raw, "passages": 4}), until="generate")["generate"]
    assert grown["resumed_rows"] == 9 and grown["passages"] == 4


@pytest.mark.slow
def test_a_query_log_replaces_generation_and_the_teachers_top_candidate_is_the_positive(tmp_path):
    from loralab.rankers.registry import build_ranker, ranker_config
    from loralab.tasks.rerank.labelfree.chain import run_chain
    from loralab.tasks.rerank.labelfree.config import chain_config
    from loralab.tasks.rerank.train import read_groups_jsonl

    log = tmp_path / "log.jsonl"
    log.write_text('{"_id": "1", "text": "what is a flea"}\n{"_id": "2", "text": "What is  a flea"}\n'
                   '{"_id": "3", "text": "cost of concrete floors"}\n{"_id": "4", "text": "who wrote hamlet"}\n')
    teacher = {"ranker": "bi-encoder", "model": "minilm", "max_length": 128}
    raw = {"corpus": str(_corpus_folder(tmp_path)), "out": str(tmp_path / "chain"), "negatives": 3,
           "query_log": {"path": str(log), "sample": 2}, "generator": {"model": "no-such-model"},
           "mining": {"bm25": 4, "dense": 2, "dense_model": "minilm", "max_length": 128}, "teacher": teacher}
    summaries = run_chain(chain_config(raw))  # the generator is never loaded: its model does not exist
    assert summaries["generate"]["log_queries"] == 3  # the repeated question (case and spaces aside) counted once
    groups = read_groups_jsonl(tmp_path / "chain" / "groups" / "groups.jsonl.gz")
    assert len(groups) == 2 and summaries["groups"]["source_rank"] == {"log query": 2}
    scored = {json.loads(line)["query_id"]: json.loads(line)
              for line in gzip.open(tmp_path / "chain" / "score" / "score.jsonl.gz", "rt")}
    from loralab.data.schemas import Document

    ranker = build_ranker(ranker_config("bi-encoder", model="minilm", max_length=128))
    for group in groups:
        row = scored[group.query_id]
        assert len(row["docs"]) == 6 and group.teacher[0] == max(row["teacher"])  # positive: the teacher's top
        docs = [Document(str(i), text) for i, text in enumerate([group.positive, *group.negatives])]
        assert ranker.score(group.query, docs) == pytest.approx(group.teacher, abs=1e-5)

    grown = run_chain(chain_config({**raw, "query_log": {"path": str(log), "sample": 3}}))
    assert grown["score"]["resumed_rows"] == 2 and grown["groups"]["kept"] == 3
    log.write_text('{"_id": "1", "text": "what is a flea"}\n{"_id": "1", "text": "fleas"}\n')
    with pytest.raises(DataError, match=r"log.jsonl:2: query id '1' appears twice"):
        run_chain(chain_config({**raw, "out": str(tmp_path / "other")}))


@pytest.mark.slow
def test_a_judged_query_log_keeps_its_label_as_the_positive_and_never_draws_an_unjudged_query(tmp_path):
    from loralab.tasks.rerank.labelfree.chain import run_chain
    from loralab.tasks.rerank.labelfree.config import chain_config

    folder = _corpus_folder(tmp_path)
    ids = sorted(json.loads(line)["_id"] for line in (folder / "corpus.jsonl").read_text().splitlines())
    log = tmp_path / "log.jsonl"
    log.write_text('{"_id": "1", "text": "what is a flea"}\n{"_id": "2", "text": "What is a flea"}\n'
                   '{"_id": "3", "text": "cost of concrete floors"}\n{"_id": "4", "text": "who wrote hamlet"}\n'
                   '{"_id": "5", "text": "how long do cats sleep"}\n')
    qrels = tmp_path / "train.tsv"  # 2 repeats 1's text: its document joins 1's; 3 has no relevant one; 4 is unjudged
    qrels.write_text(f"query-id\tcorpus-id\tscore\n1\t{ids[3]}\t1\n1\t{ids[5]}\t1\n2\t{ids[7]}\t1\n3\t{ids[2]}\t0\n"
                     f"5\t{ids[9]}\t2\n")
    raw = {"corpus": str(folder), "out": str(tmp_path / "chain"), "negatives": 3,
           "query_log": {"path": str(log), "qrels": str(qrels), "sample": 10},
           "mining": {"bm25": 4, "dense": 2, "dense_model": "minilm", "max_length": 128},
           "teacher": {"ranker": "bi-encoder", "model": "minilm", "max_length": 128}}
    summaries = run_chain(chain_config(raw))
    assert summaries["generate"]["queries"] == 2 and summaries["groups"]["source_rank"] == {"judged query": 2}
    scored = {json.loads(line)["query_id"]: json.loads(line)
              for line in gzip.open(tmp_path / "chain" / "score" / "score.jsonl.gz", "rt")}
    assert set(scored) == {"log-1", "log-5"}
    assert scored["log-1"]["docs"][0] == ids[3] and scored["log-5"]["docs"][0] == ids[9]  # the label, first
    assert not {ids[5], ids[7]} & set(scored["log-1"]["docs"][1:])  # another relevant document is no negative
    groups = [json.loads(line) for line in gzip.open(tmp_path / "chain" / "groups" / "groups.jsonl.gz", "rt")]
    assert {g["query_id"]: g["positive"]["_id"] for g in groups} == {"log-1": ids[3], "log-5": ids[9]}

    qrels.write_text(qrels.read_text() + f"99\t{ids[1]}\t1\n")
    with pytest.raises(DataError, match=r"train.tsv: 1 judged queries are not in the query log \(e.g. '99'\)"):
        run_chain(chain_config({**raw, "out": str(tmp_path / "other")}))


def test_graded_qrels_count_a_document_relevant_from_the_query_logs_relevance_level(tmp_path):
    from loralab.data.schemas import Document
    from loralab.tasks.rerank.labelfree.config import chain_config
    from loralab.tasks.rerank.labelfree.generate import judged_relevant

    corpus = {d: Document(id=d, text=f"passage {d}") for d in ("a", "b", "c")}
    qrels = tmp_path / "qrels.txt"  # TREC layout, graded as in TREC DL: 1 related, 2 and 3 relevant
    qrels.write_text("q1 0 a 1\nq1 0 b 2\nq2 0 c 1\nq3 0 c 3\n")
    queries = {"q1": "one", "q2": "two", "q3": "three"}
    assert judged_relevant(qrels, queries, {}, corpus) == {"q1": ["a", "b"], "q2": ["c"], "q3": ["c"]}
    assert judged_relevant(qrels, queries, {}, corpus, relevance_level=2) == {"q1": ["b"], "q3": ["c"]}
    with pytest.raises(DataError, match="no judged query has a document of grade >= 4"):
        judged_relevant(qrels, queries, {}, corpus, relevance_level=4)

    raw = {"corpus": "scifact", "out": str(tmp_path / "chain"), "query_log": {"path": "log.jsonl", "qrels": str(qrels)}}
    level_1 = chain_config(raw).step_key("generate")
    assert chain_config({**raw, "query_log": {**raw["query_log"], "relevance_level": 1}}).step_key("generate") == level_1
    assert chain_config({**raw, "query_log": {**raw["query_log"], "relevance_level": 2}}).step_key("generate") != level_1
    with pytest.raises(ConfigError, match="relevance_level must be >= 1"):
        chain_config({**raw, "query_log": {**raw["query_log"], "relevance_level": 0}})
