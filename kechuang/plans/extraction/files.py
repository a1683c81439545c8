"""Reading plan texts and writing results in the plan-gold layout."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def read_text(path: str | Path) -> str:
    """A plan text in UTF-8 (with or without BOM) or GB18030, the two encodings seen in practice."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ValueError(f"找不到文件：{path}") from None
    except OSError as error:
        raise ValueError(f"无法读取文件 {path}：{error.strerror or error}") from None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValueError(f"文件 {path} 既不是 UTF-8 也不是 GB18030 编码的文本")


def read_json(path: str | Path) -> dict[str, Any]:
    text = read_text(path)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(
            f"文件 {path} 不是有效的 JSON（第 {error.lineno} 行：{error.msg}）"
        ) from None
    if not isinstance(value, dict):
        raise ValueError(f"文件 {path} 的内容应为一个 JSON 对象")
    return value


def to_json(result: dict[str, Any]) -> str:
    """One JSON object, each list element on its own line (valid JSON, diff-friendly)."""
    lines = ["{"]
    keys = list(result)
    for index, key in enumerate(keys):
        comma = "," if index < len(keys) - 1 else ""
        value = result[key]
        if isinstance(value, list) and value:
            lines.append(f"  {json.dumps(key, ensure_ascii=False)}: [")
            for position, item in enumerate(value):
                tail = "," if position < len(value) - 1 else ""
                lines.append(f"    {json.dumps(item, ensure_ascii=False)}{tail}")
            lines.append(f"  ]{comma}")
        else:
            name, text = json.dumps(key, ensure_ascii=False), json.dumps(value, ensure_ascii=False)
            lines.append(f"  {name}: {text}{comma}")
    lines.append("}")
    return "\n".join(lines)
