"""Plan extraction against the hand annotations: P / R / F1 per seed and micro, and speed.

    .venv/bin/python bench/bench_extraction.py [--gold DIR --texts DIR] [--repeat N]

By default it scores the annotated seeds (``../shared/data/plan-gold`` with the texts in
``../shared/seeds``) and then the synthetic plans of
``kechuang/plans/tests/extraction/data`` (each ``.txt`` with its ``.json``). The same
figures come from ``.venv/bin/kechuang plan score GOLD_DIR TEXT_DIR``. Pure Python: no
Django, no database.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kechuang.core.workspace import shared_folder  # noqa: E402 (the repository first)
from kechuang.plans.extraction import (  # noqa: E402 (the repository on the path first)
    extract,
    format_table,
    read_text,
    score_document,
    summarise,
)

SHARED = shared_folder() or ROOT / ".." / "shared"
SYNTHETIC = ROOT / "kechuang" / "plans" / "tests" / "extraction" / "data"


def corpus(gold_dir: Path, text_dir: Path) -> list[tuple[str, Path, Path]]:
    pairs = []
    for gold in sorted(gold_dir.glob("*.json")):
        text = text_dir / f"{gold.stem}.txt"
        if text.exists():
            pairs.append((gold.stem, text, gold))
    return pairs


def run(title: str, pairs: list[tuple[str, Path, Path]], repeat: int) -> None:
    scores = []
    seconds = []
    characters = 0
    for name, text_path, gold_path in pairs:
        text = read_text(text_path)
        characters += len(text)
        timings = []
        for _ in range(repeat):
            start = time.perf_counter()
            result = extract(text)
            timings.append(time.perf_counter() - start)
        seconds.append(statistics.median(timings))
        gold = json.loads(gold_path.read_text("utf-8"))
        scores.append(score_document(gold, result, name.split("_")[0]))
    print(f"## {title}\n")
    print(format_table(summarise(scores)))
    total = sum(seconds)
    print(
        f"Extraction: {len(pairs)} texts, {characters:,} characters, median {total * 1000:.0f} ms "
        f"in all ({characters / total:,.0f} characters/s).\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", type=Path, help="a folder of annotations (<name>.json)")
    parser.add_argument("--texts", type=Path, help="the folder of their texts (<name>.txt)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.gold:
        run(str(args.gold), corpus(args.gold, args.texts or args.gold), args.repeat)
        return
    seeds = corpus(SHARED / "data" / "plan-gold", SHARED / "seeds")
    if seeds:
        run("Annotated seeds", seeds, args.repeat)
    else:
        print(f"(no annotated seeds under {SHARED.resolve()})\n")
    run("Synthetic plans (tests/extraction/data)", corpus(SYNTHETIC, SYNTHETIC), args.repeat)


if __name__ == "__main__":
    main()
