"""Methodologies as data: the shipped YAML, an official table from Excel, the engine view.

Every methodology goes through the engine's own checks (``framework_from_rows``
for the tree, ``parse_spec`` for the steps) before anything is written, so a
methodology in the database always builds.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.db import transaction
from django.utils.translation import gettext as _

from kechuang.audit import services as audit
from kechuang.core.errors import InvalidInput
from kechuang.evaluation.choices import Family, Source
from kechuang.evaluation.engine.framework import Framework, framework_from_rows
from kechuang.evaluation.engine.spec import Spec, parse_spec
from kechuang.evaluation.models import Methodology, MethodologyNode
from kechuang.indicators.models import Indicator
from kechuang.indicators.services.catalogue import require_catalogue_admin

SHIPPED = Path(__file__).resolve().parent.parent / "data" / "methodologies.yaml"
META_HEADER = ("Level", "iCode", "iName", "Direction", "Weight", "Target", "Parent", "Type")


@dataclass
class NodeEntry:
    code: str
    name: str
    level: int
    parent: str = ""
    direction: int = 1
    weight: float = 1.0
    target: float | None = None
    target_note: str = ""


@dataclass
class MethodologyEntry:
    code: str
    version: int
    name: str
    family: str
    steps: list[dict[str, Any]]
    nodes: list[NodeEntry]
    name_en: str = ""
    authority: str = ""
    unit: str = ""
    level_names: list[str] = field(default_factory=list)
    note: str = ""


# ---------------------------------------------------------------- the engine's view


def meta_rows(nodes: Iterable[NodeEntry | MethodologyNode]) -> list[tuple[str, ...]]:
    """The tree as COINr iMeta rows (strings), the form the engine validates."""
    rows = []
    for node in nodes:
        parent = node.parent if isinstance(node, NodeEntry) else node.parent_code
        target = "" if node.target is None else repr(float(node.target))
        rows.append(
            (
                str(node.level),
                node.code,
                node.name,
                str(node.direction),
                repr(float(node.weight)),
                target,
                parent,
                "Indicator" if node.level == 1 else "Aggregate",
            )
        )
    return rows


def framework_of(methodology: Methodology) -> Framework:
    nodes = list(methodology.nodes.order_by("level", "order", "pk"))
    return framework_from_rows(META_HEADER, meta_rows(nodes), source=methodology.code)


def spec_of(methodology: Methodology) -> Spec:
    return parse_spec({"steps": methodology.steps}, source=methodology.code)


# ---------------------------------------------------------------- reading and checking


def read_methodologies(path: Path | None = None) -> list[MethodologyEntry]:
    """Every methodology in the YAML file, checked as the engine will use it."""
    path = path or SHIPPED
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise InvalidInput(
            _("无法读取评价方法文件 %(file)s：%(error)s") % {"file": path.name, "error": error}
        ) from None
    records = (data or {}).get("methodologies") or []
    entries: dict[str, MethodologyEntry] = {}
    for number, record in enumerate(records, start=1):
        entry = _entry(record, entries, f"{path.name} 第 {number} 个方法")
        entries[entry.code] = entry
    return list(entries.values())


def _entry(
    record: Mapping[str, Any], known: Mapping[str, MethodologyEntry], where: str
) -> MethodologyEntry:
    try:
        code, version, name = str(record["code"]), int(record["version"]), str(record["name"])
    except (KeyError, TypeError, ValueError):
        raise InvalidInput(_("%(where)s：code、version、name 必填") % {"where": where}) from None
    family = str(record.get("family", Family.CUSTOM))
    if family not in Family.values:
        raise InvalidInput(_("%(where)s：未知的指数类型「%(f)s」") % {"where": where, "f": family})
    if "same_tree_as" in record:
        base = known.get(str(record["same_tree_as"]))
        if base is None:
            raise InvalidInput(
                _("%(where)s：same_tree_as 引用的「%(c)s」须在前面定义")
                % {"where": where, "c": record["same_tree_as"]}
            )
        nodes = [NodeEntry(**vars(n)) for n in base.nodes]
        if record.get("flat"):
            nodes = _flatten(nodes)
    else:
        nodes = [
            _node(item, f"{where} nodes 第 {i} 项")
            for i, item in enumerate(record.get("nodes") or [], 1)
        ]
    entry = MethodologyEntry(
        code=code,
        version=version,
        name=name,
        family=family,
        steps=list(record.get("steps") or []),
        nodes=nodes,
        name_en=str(record.get("name_en", "")),
        authority=str(record.get("authority", "")),
        unit=str(record.get("unit", "")),
        level_names=[str(n) for n in record.get("level_names") or []],
        note=str(record.get("note", "")).strip(),
    )
    check_entry(entry)
    return entry


def _node(item: Mapping[str, Any], where: str) -> NodeEntry:
    try:
        target = item.get("target")
        return NodeEntry(
            code=str(item["code"]),
            name=str(item.get("name", "")),
            level=int(item["level"]),
            parent=str(item.get("parent", "") or ""),
            direction=int(item.get("direction", 1)),
            weight=float(item.get("weight", 1.0)),
            target=None if target is None else float(target),
            target_note=str(item.get("target_note", "")),
        )
    except (KeyError, TypeError, ValueError):
        raise InvalidInput(
            _("%(where)s：code、level 必填，数值列须为数字") % {"where": where}
        ) from None


def _flatten(nodes: list[NodeEntry]) -> list[NodeEntry]:
    """Every indicator straight under the top node, equal weights (a flat relative index)."""
    top = max(nodes, key=lambda n: n.level)
    indicators = [
        NodeEntry(**{**vars(n), "parent": top.code, "weight": 1.0}) for n in nodes if n.level == 1
    ]
    return [NodeEntry(**{**vars(top), "level": 2}), *indicators]


def check_entry(entry: MethodologyEntry) -> None:
    """Refuse a methodology the engine could not build, or one naming unknown indicators."""
    try:
        framework_from_rows(META_HEADER, meta_rows(entry.nodes), source=entry.code)
        parse_spec({"steps": entry.steps}, source=entry.code)
    except ValueError as error:
        raise InvalidInput(str(error)) from None
    for node in entry.nodes:
        if node.direction not in (1, -1):
            raise InvalidInput(
                _("%(m)s：「%(c)s」的方向应为 1（正向）或 -1（逆向）")
                % {"m": entry.code, "c": node.code}
            )
        if node.target is not None and not math.isfinite(node.target):
            raise InvalidInput(
                _("%(m)s：「%(c)s」的标准值无效") % {"m": entry.code, "c": node.code}
            )


# ---------------------------------------------------------------- writing


@transaction.atomic
def load_methodologies(path: Path | None = None, *, actor: Any) -> list[Methodology]:
    """Create or replace every methodology version of the file (the shipped one by default)."""
    require_catalogue_admin(actor)
    return [
        save_methodology(entry, source=Source.SHIPPED, actor=actor)
        for entry in read_methodologies(path)
    ]


def ensure_shipped(*, actor: Any) -> list[Methodology]:
    """The shipped versions that are not in the database yet (stored ones stay as they are)."""
    require_catalogue_admin(actor)
    return [
        save_methodology(entry, source=Source.SHIPPED, actor=actor)
        for entry in read_methodologies()
        if not Methodology.objects.filter(code=entry.code, version=entry.version).exists()
    ]


def save_methodology(entry: MethodologyEntry, *, source: str, actor: Any) -> Methodology:
    """Write one version (its tree replaced whole); indicators must exist in the catalogue."""
    require_catalogue_admin(actor)
    check_entry(entry)
    indicators = dict(
        Indicator.objects.filter(
            code__in=[n.code for n in entry.nodes if n.level == 1]
        ).values_list("code", "pk")
    )
    unknown = [n.code for n in entry.nodes if n.level == 1 and n.code not in indicators]
    if unknown:
        raise InvalidInput(
            _("%(m)s：指标库中没有这些指标：%(codes)s")
            % {"m": entry.code, "codes": "、".join(unknown)}
        )
    methodology = Methodology.objects.filter(code=entry.code, version=entry.version).first()
    before = audit.snapshot(methodology, FIELDS) if methodology else None
    if methodology is not None and methodology.runs.exists():
        raise InvalidInput(
            _("「%(name)s」已有计算结果，不能再修改；请以新的版本（年度）导入。")
            % {"name": methodology}
        )
    methodology = methodology or Methodology(code=entry.code, version=entry.version)
    for name in FIELDS:
        setattr(methodology, name, getattr(entry, name))
    methodology.source = source
    methodology.save()
    methodology.nodes.all().delete()
    MethodologyNode.objects.bulk_create(
        [
            MethodologyNode(
                methodology=methodology,
                code=node.code,
                name=node.name or _indicator_name(node.code),
                level=node.level,
                parent_code=node.parent,
                indicator_id=indicators.get(node.code) if node.level == 1 else None,
                direction=node.direction,
                weight=node.weight,
                target=node.target,
                target_note=node.target_note,
                order=order,
            )
            for order, node in enumerate(entry.nodes)
        ]
    )
    audit.record(
        actor,
        "evaluation.methodology.save",
        methodology,
        before=before,
        after={**audit.snapshot(methodology, FIELDS), "nodes": len(entry.nodes)},
    )
    return methodology


FIELDS = ("name", "name_en", "authority", "family", "unit", "level_names", "note", "steps")


def _indicator_name(code: str) -> str:
    return Indicator.objects.filter(code=code).values_list("name", flat=True).first() or code


def entry_from(methodology: Methodology) -> MethodologyEntry:
    """A stored methodology as an entry (to derive a new version from it)."""
    return MethodologyEntry(
        code=methodology.code,
        version=methodology.version,
        name=methodology.name,
        family=methodology.family,
        steps=list(methodology.steps),
        nodes=[
            NodeEntry(
                code=n.code,
                name=n.name,
                level=n.level,
                parent=n.parent_code,
                direction=n.direction,
                weight=n.weight,
                target=n.target,
                target_note=n.target_note,
            )
            for n in methodology.nodes.order_by("order", "pk")
        ],
        name_en=methodology.name_en,
        authority=methodology.authority,
        unit=methodology.unit,
        level_names=list(methodology.level_names),
        note=methodology.note,
    )


def latest(code: str, year: int | None = None) -> Methodology:
    """The newest active version of ``code`` (not newer than ``year`` when given)."""
    versions = Methodology.objects.filter(code=code, is_active=True)
    if year is not None:
        versions = versions.filter(version__lte=year)
    methodology = (
        versions.order_by("-version").first()
        or Methodology.objects.filter(code=code, is_active=True).order_by("version").first()
    )
    if methodology is None:
        raise InvalidInput(_("没有代码为「%(code)s」的评价方法") % {"code": code})
    return methodology


def nodes_by_code(methodology: Methodology) -> dict[str, MethodologyNode]:
    return {n.code: n for n in methodology.nodes.select_related("indicator")}


def children_of(nodes: Sequence[MethodologyNode]) -> dict[str, list[MethodologyNode]]:
    tree: dict[str, list[MethodologyNode]] = {}
    for node in nodes:
        tree.setdefault(node.parent_code, []).append(node)
    return tree


# ---------------------------------------------------------------- a province's table from Excel

# Column titles a province's table may use (Chinese first, COINr's names accepted too).
EXCEL_COLUMNS = {
    "level": ("层级", "Level"),
    "code": ("代码", "指标代码", "iCode"),
    "name": ("名称", "指标名称", "iName"),
    "parent": ("上级代码", "Parent"),
    "direction": ("方向", "Direction"),
    "weight": ("权重", "Weight"),
    "target": ("标准值", "目标值", "Target"),
}
DIRECTIONS = {"1": 1, "-1": -1, "正": 1, "正向": 1, "逆": -1, "逆向": -1, "负向": -1}


def read_excel_table(path: Path, *, name: str | None = None) -> list[NodeEntry]:
    """The tree of an official table (one row per node); errors name file, sheet, row, column."""
    import openpyxl
    from openpyxl.utils import get_column_letter

    file = name or path.name
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a file that is not a workbook
        raise InvalidInput(_("%(file)s：不是有效的 .xlsx 文件") % {"file": file}) from None
    sheet = workbook.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    workbook.close()
    if not rows:
        raise InvalidInput(
            _("%(file)s:%(sheet)s：工作表是空的") % {"file": file, "sheet": sheet.title}
        )
    header = [str(cell).strip() if cell is not None else "" for cell in rows[0]]
    where: dict[str, int] = {}
    for key, titles in EXCEL_COLUMNS.items():
        for title in titles:
            if title in header:
                where[key] = header.index(title)
                break
    missing = [EXCEL_COLUMNS[k][0] for k in ("level", "code", "parent") if k not in where]
    if missing:
        raise InvalidInput(
            _("%(file)s:%(sheet)s:1：缺少列 %(cols)s")
            % {"file": file, "sheet": sheet.title, "cols": "、".join(missing)}
        )

    def problem(row: int, key: str, message: str) -> InvalidInput:
        column = get_column_letter(where[key] + 1)
        return InvalidInput(f"{file}:{sheet.title}:{row}:{column}：{message}")

    nodes = []
    for number, row in enumerate(rows[1:], start=2):
        cells = {key: (row[i] if i < len(row) else None) for key, i in where.items()}
        if all(value in (None, "") for value in cells.values()):
            continue
        code = str(cells["code"] or "").strip()
        if not code:
            raise problem(number, "code", _("代码不能为空"))
        try:
            level = int(float(cells["level"]))
        except (TypeError, ValueError):
            raise problem(
                number, "level", _("层级应为正整数，填的是「%(v)s」") % {"v": cells["level"]}
            ) from None
        direction_text = str(
            cells.get("direction") if cells.get("direction") is not None else "1"
        ).strip()
        direction_text = direction_text[:-2] if direction_text.endswith(".0") else direction_text
        if direction_text not in DIRECTIONS:
            raise problem(number, "direction", _("方向应为 正向 或 逆向（1 或 -1）"))
        nodes.append(
            NodeEntry(
                code=code,
                name=str(cells.get("name") or "").strip(),
                level=level,
                parent=str(cells["parent"] or "").strip(),
                direction=DIRECTIONS[direction_text],
                weight=_excel_number(
                    cells.get("weight"), 1.0, lambda m, n=number: problem(n, "weight", m)
                ),
                target=_excel_number(
                    cells.get("target"), None, lambda m, n=number: problem(n, "target", m)
                ),
            )
        )
    if not nodes:
        raise InvalidInput(
            _("%(file)s:%(sheet)s：没有指标行") % {"file": file, "sheet": sheet.title}
        )
    return nodes


def _excel_number(value: Any, default: float | None, problem: Any) -> float | None:
    if value is None or value == "":
        return default
    text = str(value).strip()
    try:
        # A weight typed as "20%" is as good as 0.2: only proportions within a parent matter.
        number = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise problem(_("应为数字，填的是「%(v)s」") % {"v": value}) from None
    if not math.isfinite(number) or number < 0:
        raise problem(_("应为非负数"))
    return number


@transaction.atomic
def import_excel(
    path: Path, *, base: Methodology, version: int, actor: Any, name: str | None = None
) -> Methodology:
    """A new version of ``base`` with the tree, weights and standard values of the table.

    The steps, family and notes are the base's; the table replaces the tree.
    """
    require_catalogue_admin(actor)
    entry = entry_from(base)
    entry.version = version
    entry.nodes = read_excel_table(path, name=name)
    entry.note = _("依据导入的正式指标体系及权重表（%(file)s）。") % {"file": name or path.name}
    return save_methodology(entry, source=Source.IMPORTED, actor=actor)
