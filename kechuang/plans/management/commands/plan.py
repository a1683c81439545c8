"""kechuang plan — read a plan's plain text into its task-decomposition table.

    kechuang plan extract FILE.txt [--format json|table]
    kechuang plan score GOLD.json PRED.json [--format table|json]
    kechuang plan score GOLD_DIR PRED_DIR|TEXT_DIR [--format table|json]
    kechuang plan import FILE.txt --org CODE [--parent PLAN_ID] [--create-departments]
    kechuang plan supervise [--today YYYY-MM-DD]   (the daily job: reminders, overdue, escalation)

`extract` prints one JSON object in the plan-gold schema (document, tasks, targets,
subsidies). `score` compares predictions with hand annotations; given two folders it pairs
files by name, and a folder of .txt plan texts is extracted on the fly.
"""

from __future__ import annotations

import datetime
import json
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.utils import timezone

from kechuang.core.commands import KechuangCommand, Subcommand, SubcommandCommand
from kechuang.plans.extraction import (
    extract,
    format_table,
    read_json,
    read_text,
    score_document,
    summarise,
    to_json,
)
from kechuang.plans.models import Plan
from kechuang.plans.services import ingest, supervision
from kechuang.regions.models import OrgUnit


def _extract_arguments(parser: ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="规划或方案的纯文本文件（UTF-8 或 GB18030）")
    parser.add_argument("--format", choices=("json", "table"), default="json", dest="output")


def _extract(command: KechuangCommand, options: dict[str, Any]) -> None:
    result = extract(read_text(options["file"]))
    if options["output"] == "json":
        command.stdout.write(to_json(result))
        return
    command.stdout.write(_decomposition_table(result))


def _decomposition_table(result: dict[str, Any]) -> str:
    document = result["document"]
    lines = [f"# {document['title'] or '（无标题）'}", ""]
    lines.append("| 编号 | 任务 | 牵头单位 | 责任单位 | 配合单位 | 指标 |")
    lines.append("| --- | --- | --- | --- | --- | --- |")
    by_task: dict[tuple[str, ...], list[str]] = {}
    for target in result["targets"]:
        key = tuple(target["task_path"] or ())
        by_task.setdefault(key, []).append(target["text"].replace("\n", ""))
    for task in result["tasks"]:
        cells = [
            " ".join(task["path"]),
            task["title"].replace("\n", ""),
            "、".join(task["lead_units"]),
            "、".join(task["responsible_units"]),
            "、".join(task["cooperating_units"]),
            "；".join(dict.fromkeys(by_task.get(tuple(task["path"]), []))),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    loose = by_task.get((), [])
    if loose:
        lines.extend(["", "未归入任务的指标：" + "；".join(dict.fromkeys(loose))])
    return "\n".join(lines)


def _score_arguments(parser: ArgumentParser) -> None:
    parser.add_argument("gold", type=Path, help="人工标注 GOLD.json，或标注文件所在目录")
    parser.add_argument(
        "pred", type=Path, help="抽取结果 PRED.json，或结果（或 .txt 原文）所在目录"
    )
    parser.add_argument("--format", choices=("table", "json"), default="table", dest="output")


def _score(command: KechuangCommand, options: dict[str, Any]) -> None:
    gold, pred = options["gold"], options["pred"]
    if gold.is_dir():
        pairs = []
        for gold_file in sorted(gold.glob("*.json")):
            pairs.append((gold_file.stem, read_json(gold_file), _prediction(pred, gold_file.stem)))
        if not pairs:
            raise ValueError(f"目录 {gold} 中没有 .json 标注文件")
    else:
        pairs = [(gold.stem, read_json(gold), _prediction(pred, None))]
    summary = summarise([score_document(g, p, name) for name, g, p in pairs])
    if options["output"] == "json":
        command.stdout.write(json.dumps(summary, ensure_ascii=False, indent=1))
    else:
        command.stdout.write(format_table(summary))


def _prediction(path: Path, stem: str | None) -> dict[str, Any]:
    if stem is not None:
        for candidate in (path / f"{stem}.txt", path / f"{stem}.json"):
            if candidate.exists():
                return _prediction(candidate, None)
        raise ValueError(f"目录 {path} 中没有 {stem}.json 或 {stem}.txt")
    if path.suffix == ".txt":
        return extract(read_text(path))
    return read_json(path)


def _import_arguments(parser: ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="规划计划正文（.txt，UTF-8 或 GB18030）")
    parser.add_argument("--org", required=True, help="制定单位代码，如 620821")
    parser.add_argument("--parent", type=int, default=None, help="贯彻落实的上级规划编号")
    parser.add_argument(
        "--create-departments",
        action="store_true",
        help="把未匹配到的单位名称新建为制定单位的部门（默认按原文保留）",
    )


def _import(command: KechuangCommand, options: dict[str, Any]) -> None:
    unit = OrgUnit.objects.current().filter(code=options["org"]).first()
    if unit is None:
        raise ValueError(f"没有代码为 {options['org']} 的现行单位")
    text = read_text(options["file"])
    proposal = ingest.propose(text, unit)
    parent = Plan.objects.filter(pk=options["parent"]).first() if options["parent"] else None
    plan = ingest.publish(
        proposal,
        org_unit=unit,
        actor=None,
        text=text,
        parent=parent,
        create_departments=proposal.unmatched if options["create_departments"] else (),
    )
    command.stdout.write(
        f"已发布第 {plan.pk} 号规划「{plan.title}」：{plan.tasks.count()} 项任务、"
        f"{plan.targets.count()} 个目标、{plan.subsidies.count()} 项奖补；"
        f"未匹配的单位 {len(proposal.unmatched)} 个"
    )


def _supervise_arguments(parser: ArgumentParser) -> None:
    parser.add_argument(
        "--today", type=datetime.date.fromisoformat, default=None, help="按哪一天督办（默认今天）"
    )


def _supervise(command: KechuangCommand, options: dict[str, Any]) -> None:
    today = options["today"] or timezone.localdate()
    report = supervision.sweep(today, now=timezone.now())
    command.stdout.write(
        f"{today}：到期提醒 {report.reminders} 条，超期预警 {report.overdue} 条，"
        f"超期上报 {report.escalations} 条"
    )


SUBCOMMANDS: dict[str, Subcommand] = {
    "import": Subcommand(
        help="把规划计划正文识别后直接发布（无人工核对；网页上可逐项核对）",
        add_arguments=_import_arguments,
        handle=_import,
    ),
    "supervise": Subcommand(
        help="每日督办：到期提醒、超期预警、超期上报（可重复运行，不会重复发送）",
        add_arguments=_supervise_arguments,
        handle=_supervise,
    ),
    "extract": Subcommand(
        help="从规划、方案的纯文本中抽取任务分解表（JSON）",
        add_arguments=_extract_arguments,
        handle=_extract,
    ),
    "score": Subcommand(
        help="按 plan-gold 的评分办法比较抽取结果与人工标注",
        add_arguments=_score_arguments,
        handle=_score,
    ),
}


class Command(SubcommandCommand):
    help = "规划文本抽取：任务、牵头/责任/配合单位、量化指标与补助标准。"
    subcommands = SUBCOMMANDS
