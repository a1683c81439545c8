"""The plan-gold scoring: a prediction against a hand annotation (plan-gold/README.md).

Strings are compared after normalisation (NFKC, no whitespace, one form of each bracket
and quote, a unit's trailing 等 dropped). Tasks pair by equal path, then one-to-one on
title similarity (character-bigram Dice ≥ 0.6). Units are counted per (task, role, unit)
triple. Targets pair one-to-one among candidates with the same value, upper value and
unit, by 0.6 × subject Dice + 0.4 × text Jaccard; predictions that overlap an uncertain
goal are dropped, those that overlap a background figure are also non-target errors.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from .numerals import parse_chinese

DOCUMENT_FIELDS = ("title", "issuer", "doc_number", "date")
ROLES = ("lead_units", "responsible_units", "cooperating_units")
TASK_DICE = 0.6
PAIR_THRESHOLD = 0.5
_FRAME_TITLE = re.compile(
    r"总体要求|指导思想|基本原则|发展目标|目标任务|主要目标|工作目标|总体目标|预期目标|具体目标"
)
_PUNCTUATION = str.maketrans(
    {"〔": "[", "〕": "]", "【": "[", "】": "]", "“": '"', "”": '"', "‘": "'", "’": "'",
     "—": "-", "–": "-", "～": "~"}
)  # fmt: skip


# ---------------------------------------------------------------- normalisation and similarity
def normalise(text: str | None) -> str:
    if text is None:
        return ""
    text = unicodedata.normalize("NFKC", str(text)).translate(_PUNCTUATION)
    return re.sub(r"\s+", "", text)


def normalise_unit(text: str) -> str:
    return normalise(text).removesuffix("等")


def _bigrams(text: str) -> Counter[str]:
    if len(text) < 2:
        return Counter([text]) if text else Counter()
    return Counter(text[i : i + 2] for i in range(len(text) - 1))


def dice(a: str, b: str) -> float:
    """Character-bigram Dice coefficient of two normalised strings."""
    a, b = normalise(a), normalise(b)
    if a == b:
        return 1.0
    x, y = _bigrams(a), _bigrams(b)
    total = sum(x.values()) + sum(y.values())
    return 2 * sum((x & y).values()) / total if total else 0.0


def jaccard(a: str, b: str) -> float:
    """Character-level (multiset) Jaccard overlap of two spans."""
    x, y = Counter(normalise(a)), Counter(normalise(b))
    union = sum((x | y).values())
    return sum((x & y).values()) / union if union else 1.0


def _longest_common(a: str, b: str) -> str:
    best = ""
    previous = [0] * (len(b) + 1)
    for i in range(1, len(a) + 1):
        current = [0] * (len(b) + 1)
        for j in range(1, len(b) + 1):
            if a[i - 1] == b[j - 1]:
                current[j] = previous[j - 1] + 1
                if current[j] > len(best):
                    best = a[i - current[j] : i]
        previous = current
    return best


def overlaps(a: str, b: str) -> bool:
    """Whether two spans of one text plausibly overlap (no offsets are stored)."""
    a, b = normalise(a), normalise(b)
    if not a or not b:
        return False
    if a in b or b in a:
        return True
    common = _longest_common(a, b)
    return len(common) >= 4 and bool(re.search(r"[\d一二两三四五六七八九十]", common))


def _numbers(text: str) -> set[float]:
    found = {float(x) for x in re.findall(r"\d+(?:\.\d+)?", normalise(text))}
    for word in re.findall(r"[零〇一二两三四五六七八九十百千]+", text):
        value = parse_chinese(word)
        if value is not None:
            found.add(float(value))
    return found


def _same_number(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(float(a), float(b), rel_tol=1e-6, abs_tol=1e-9)


# ---------------------------------------------------------------- counts
@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else (1.0 if not self.fn else 0.0)

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else (1.0 if not self.fp else 0.0)

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict[str, float | int]:
        return {
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
        }


@dataclass
class Ratio:
    right: int = 0
    total: int = 0

    def add(self, ok: bool) -> None:
        self.right += bool(ok)
        self.total += 1

    def __add__(self, other: Ratio) -> Ratio:
        return Ratio(self.right + other.right, self.total + other.total)

    @property
    def value(self) -> float | None:
        return self.right / self.total if self.total else None


@dataclass
class DocumentScore:
    name: str
    document: dict[str, Ratio] = field(default_factory=dict)
    tasks: Counts = field(default_factory=Counts)
    tasks_leaf: Counts = field(default_factory=Counts)
    tasks_no_frame: Counts = field(default_factory=Counts)
    task_path: Ratio = field(default_factory=Ratio)
    title_similarity: list[float] = field(default_factory=list)
    units: Counts = field(default_factory=Counts)
    units_any_role: Counts = field(default_factory=Counts)
    targets: Counts = field(default_factory=Counts)
    targets_distinct: Counts = field(default_factory=Counts)
    non_target_errors: int = 0
    target_attributes: dict[str, Ratio] = field(default_factory=dict)
    subsidies: Counts = field(default_factory=Counts)
    subsidy_per: Ratio = field(default_factory=Ratio)


# ---------------------------------------------------------------- assignment
def _assign(weights: np.ndarray, allowed: np.ndarray) -> list[tuple[int, int]]:
    if weights.size == 0 or not allowed.any():
        return []
    rows, cols = linear_sum_assignment(np.where(allowed, weights, 0.0), maximize=True)
    return [(int(r), int(c)) for r, c in zip(rows, cols, strict=True) if allowed[r, c]]


def _path(task: dict[str, Any]) -> tuple[str, ...]:
    return tuple(normalise(part) for part in task.get("path") or [])


def match_tasks(gold: Sequence[dict], pred: Sequence[dict]) -> list[tuple[int, int]]:
    """Pairs of (gold index, predicted index): equal paths first, then similar titles."""
    pairs: list[tuple[int, int]] = []
    free: dict[tuple[str, ...], list[int]] = {}
    for j, task in enumerate(pred):
        free.setdefault(_path(task), []).append(j)
    for i, task in enumerate(gold):
        candidates = free.get(_path(task))
        if candidates:
            pairs.append((i, candidates.pop(0)))
    gold_left = [i for i in range(len(gold)) if i not in {a for a, _ in pairs}]
    pred_left = [j for j in range(len(pred)) if j not in {b for _, b in pairs}]
    if gold_left and pred_left:
        weights = np.array(
            [[dice(gold[i]["title"], pred[j]["title"]) for j in pred_left] for i in gold_left]
        )
        for r, c in _assign(weights, weights >= TASK_DICE):
            pairs.append((gold_left[r], pred_left[c]))
    return sorted(pairs)


def _task_counts(
    gold: Sequence[dict], pred: Sequence[dict]
) -> tuple[Counts, list[tuple[int, int]]]:
    pairs = match_tasks(gold, pred)
    return Counts(len(pairs), len(pred) - len(pairs), len(gold) - len(pairs)), pairs


def _leaves(tasks: Sequence[dict]) -> list[dict]:
    paths = [_path(task) for task in tasks]
    return [
        task
        for task, path in zip(tasks, paths, strict=True)
        if not any(len(other) > len(path) and other[: len(path)] == path for other in paths)
    ]


def _without_frame(tasks: Sequence[dict]) -> list[dict]:
    return [task for task in tasks if not _FRAME_TITLE.search(normalise(task.get("title")))]


# ---------------------------------------------------------------- units
def _unit_set(units: Iterable[str]) -> set[str]:
    names = {normalise_unit(unit) for unit in units if normalise_unit(unit)}
    for name in list(names):
        if name.endswith("党委"):
            base = name[: -len("党委")]
            for government in ("政府", "人民政府"):
                if base + government in names:
                    names -= {name, base + government}
                    names.add(f"{base}党委、{government}")
    return names


def _unit_counts(gold: dict | None, pred: dict | None, roles: Sequence[Sequence[str]]) -> Counts:
    counts = Counts()
    for group in roles:
        g = _unit_set(u for role in group for u in (gold or {}).get(role) or [])
        p = _unit_set(u for role in group for u in (pred or {}).get(role) or [])
        counts += Counts(len(g & p), len(p - g), len(g - p))
    return counts


# ---------------------------------------------------------------- targets and subsidies
def _item_weights(
    gold: Sequence[dict], pred: Sequence[dict], same: Any
) -> tuple[np.ndarray, np.ndarray]:
    weights = np.zeros((len(gold), len(pred)))
    allowed = np.zeros((len(gold), len(pred)), dtype=bool)
    for i, g in enumerate(gold):
        for j, p in enumerate(pred):
            if not same(g, p):
                continue
            subject = dice(g.get("subject") or "", p.get("subject") or "")
            text = jaccard(g.get("text") or "", p.get("text") or "")
            if subject >= PAIR_THRESHOLD or text >= PAIR_THRESHOLD:
                weights[i, j] = 0.6 * subject + 0.4 * text
                allowed[i, j] = True
    return weights, allowed


def _same_target(g: dict, p: dict) -> bool:
    return (
        _same_number(g.get("value"), p.get("value"))
        and _same_number(g.get("value_max"), p.get("value_max"))
        and normalise_unit(g.get("unit") or "") == normalise_unit(p.get("unit") or "")
    )


def _same_subsidy(g: dict, p: dict) -> bool:
    return _same_number(g.get("amount_yuan"), p.get("amount_yuan")) and _same_number(
        g.get("amount_max_yuan"), p.get("amount_max_yuan")
    )


def _score_targets(gold: dict, pred: dict, score: DocumentScore) -> None:
    golds = list(gold.get("targets") or [])
    preds = list(pred.get("targets") or [])
    uncertain = [item.get("text") or "" for item in gold.get("uncertain_targets") or []]
    background = [item.get("text") or "" for item in gold.get("non_targets") or []]
    weights, allowed = _item_weights(golds, preds, _same_target)
    pairs = _assign(weights, allowed)
    matched_pred = {j for _, j in pairs}
    false_positives: list[int] = []
    for j, p in enumerate(preds):
        if j in matched_pred:
            continue
        if any(overlaps(p.get("text") or "", u) for u in uncertain):
            continue
        false_positives.append(j)
        value = p.get("value")
        if any(overlaps(p.get("text") or "", b) for b in background) or (
            value is not None and any(float(value) in _numbers(b) for b in background)
        ):
            score.non_target_errors += 1
    score.targets = Counts(len(pairs), len(false_positives), len(golds) - len(pairs))

    # Distinct level: a restated target is one group; any member matched finds it.
    group_of = {}
    for i in range(len(golds)):
        root = i
        while golds[root].get("repeat_of") is not None and golds[root]["repeat_of"] != root:
            root = int(golds[root]["repeat_of"])
        group_of[i] = root
    found_groups = {group_of[i] for i, _ in pairs}
    distinct_fp = 0
    for j in false_positives:
        if not any(allowed[i, j] and group_of[i] in found_groups for i in range(len(golds))):
            distinct_fp += 1
    groups = set(group_of.values())
    score.targets_distinct = Counts(len(found_groups), distinct_fp, len(groups - found_groups))

    attributes = {
        name: Ratio() for name in ("comparator", "comparator_lenient", "year", "scope", "task_path")
    }
    for i, j in pairs:
        g, p = golds[i], preds[j]
        attributes["comparator"].add(g.get("comparator") == p.get("comparator"))
        lenient = {">=": ">=", "=": ">="}
        attributes["comparator_lenient"].add(
            lenient.get(g.get("comparator"), g.get("comparator"))
            == lenient.get(p.get("comparator"), p.get("comparator"))
        )
        attributes["year"].add(g.get("year") == p.get("year"))
        attributes["scope"].add(normalise(g.get("scope")) == normalise(p.get("scope")))
        attributes["task_path"].add(
            [normalise(x) for x in g.get("task_path") or []]
            == [normalise(x) for x in p.get("task_path") or []]
        )
    score.target_attributes = attributes


def _score_subsidies(gold: dict, pred: dict, score: DocumentScore) -> None:
    golds = list(gold.get("subsidies") or [])
    preds = list(pred.get("subsidies") or [])
    weights, allowed = _item_weights(golds, preds, _same_subsidy)
    pairs = _assign(weights, allowed)
    score.subsidies = Counts(len(pairs), len(preds) - len(pairs), len(golds) - len(pairs))
    for i, j in pairs:
        score.subsidy_per.add(golds[i].get("per") == preds[j].get("per"))


# ---------------------------------------------------------------- document fields
def _document_field(name: str, gold: Any, pred: Any) -> bool:
    if name == "date":
        return (gold or None) == (pred or None)
    g, p = normalise(gold), normalise(pred)
    if name == "issuer":
        g, p = g.replace("、", ""), p.replace("、", "")
    if g == p:
        return True
    # A header that lost 〕 and 号 ("甘办发〔20188") is accepted as written.
    return name == "doc_number" and bool(g) and re.sub(r"[\]号]", "", g) == p


# ---------------------------------------------------------------- one document, a corpus
def score_document(gold: dict, pred: dict, name: str = "") -> DocumentScore:
    score = DocumentScore(name)
    gold_doc, pred_doc = gold.get("document") or {}, pred.get("document") or {}
    for key in DOCUMENT_FIELDS:
        ratio = Ratio()
        ratio.add(_document_field(key, gold_doc.get(key), pred_doc.get(key)))
        score.document[key] = ratio

    gold_tasks, pred_tasks = list(gold.get("tasks") or []), list(pred.get("tasks") or [])
    score.tasks, pairs = _task_counts(gold_tasks, pred_tasks)
    score.tasks_leaf, _ = _task_counts(_leaves(gold_tasks), _leaves(pred_tasks))
    score.tasks_no_frame, _ = _task_counts(_without_frame(gold_tasks), _without_frame(pred_tasks))
    for i, j in pairs:
        score.task_path.add(_path(gold_tasks[i]) == _path(pred_tasks[j]))
        score.title_similarity.append(dice(gold_tasks[i]["title"], pred_tasks[j]["title"]))
    by_role = [[role] for role in ROLES]
    matched_gold, matched_pred = {i for i, _ in pairs}, {j for _, j in pairs}
    for i, j in pairs:
        score.units += _unit_counts(gold_tasks[i], pred_tasks[j], by_role)
        score.units_any_role += _unit_counts(gold_tasks[i], pred_tasks[j], [ROLES])
    for i, task in enumerate(gold_tasks):
        if i not in matched_gold:
            score.units += _unit_counts(task, None, by_role)
            score.units_any_role += _unit_counts(task, None, [ROLES])
    for j, task in enumerate(pred_tasks):
        if j not in matched_pred:
            score.units += _unit_counts(None, task, by_role)
            score.units_any_role += _unit_counts(None, task, [ROLES])

    _score_targets(gold, pred, score)
    _score_subsidies(gold, pred, score)
    return score


CATEGORIES = (
    ("tasks", "tasks"),
    ("tasks (no containers)", "tasks_leaf"),
    ("tasks (no 总体要求-type)", "tasks_no_frame"),
    ("units", "units"),
    ("units (any role)", "units_any_role"),
    ("targets (occurrence)", "targets"),
    ("targets (distinct)", "targets_distinct"),
    ("subsidies", "subsidies"),
)


def summarise(scores: Sequence[DocumentScore]) -> dict[str, Any]:
    """Per-document and micro-averaged P/R/F1, the macro F1 and the headline."""
    micro = {key: sum((getattr(s, key) for s in scores), Counts()) for _, key in CATEGORIES}
    macro = {
        key: round(sum(getattr(s, key).f1 for s in scores) / len(scores), 4) if scores else None
        for _, key in CATEGORIES
    }
    document = {
        key: sum((s.document[key] for s in scores), Ratio()).value for key in DOCUMENT_FIELDS
    }
    attributes: dict[str, float | None] = {}
    for name in ("comparator", "comparator_lenient", "year", "scope", "task_path"):
        total = sum((s.target_attributes.get(name, Ratio()) for s in scores), Ratio())
        attributes[name] = total.value
    headline = (
        micro["tasks"].f1 + micro["units"].f1 + micro["targets"].f1 + micro["subsidies"].f1
    ) / 4
    return {
        "documents": [
            {
                "name": s.name,
                **{key: getattr(s, key).as_dict() for _, key in CATEGORIES},
                "document": {key: s.document[key].value for key in DOCUMENT_FIELDS},
                "task_path_accuracy": s.task_path.value,
                "non_target_errors": s.non_target_errors,
                "subsidy_per_accuracy": s.subsidy_per.value,
            }
            for s in scores
        ],
        "micro": {key: micro[key].as_dict() for _, key in CATEGORIES},
        "macro_f1": macro,
        "document_accuracy": document,
        "target_attributes": attributes,
        "non_target_errors": sum(s.non_target_errors for s in scores),
        "subsidy_per_accuracy": sum((s.subsidy_per for s in scores), Ratio()).value,
        "headline": round(headline, 4),
    }


def format_table(summary: dict[str, Any]) -> str:
    """A Markdown table: P / R / F1 per category, one column group per document and micro."""
    columns = [(doc["name"], doc) for doc in summary["documents"]]
    columns.append(("micro", summary["micro"]))
    header = "| category | " + " | ".join(name for name, _ in columns) + " |"
    rule = "| --- |" + " ---: |" * len(columns)
    rows = [header, rule]
    for label, key in CATEGORIES:
        cells = []
        for _, source in columns:
            c = source[key]
            cells.append(f"{c['precision']:.2f} / {c['recall']:.2f} / **{c['f1']:.2f}**")
        rows.append(f"| {label} P / R / F1 | " + " | ".join(cells) + " |")
    for key in DOCUMENT_FIELDS:
        cells = []
        for name, source in columns:
            value = (
                summary["document_accuracy"][key] if name == "micro" else source["document"][key]
            )
            cells.append("–" if value is None else f"{value:.2f}")
        rows.append(f"| document `{key}` | " + " | ".join(cells) + " |")
    errors = [str(doc["non_target_errors"]) for doc in summary["documents"]]
    rows.append(f"| non-target errors | {' | '.join(errors)} | {summary['non_target_errors']} |")
    lines = ["\n".join(rows), ""]
    attributes = ", ".join(
        f"{name} {value:.2f}"
        for name, value in summary["target_attributes"].items()
        if value is not None
    )
    lines.append(f"Target attributes over matched pairs: {attributes}.")
    lines.append(
        f"Headline (mean of task, unit, target, subsidy micro F1): {summary['headline']:.3f}."
    )
    return "\n".join(lines)
