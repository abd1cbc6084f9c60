"""Builders of DMP files for tests (fictitious): a plain table with one row per dataset, the project's columns repeated
on every row, in Japanese headers as the food-safety form (別紙2) writes them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl import Workbook

PROJECT_HEADERS = ["体系的番号", "研究課題名", "研究開始日", "研究終了日", "DMP作成日"]
DATASET_HEADERS = {
    "number": "データNo.",
    "name": "管理対象データ名称",
    "description": "研究データの説明",
    "data_access": "研究データの公開/共有/非公開/非共有",
    "metadata_disclosure": "メタデータの公開/共有/非共有",
    "identifier": "リポジトリURL・DOIリンク",
    "registration_status": "メタデータ登録状況",
}


def write_dmp(
    path: Path,
    jgn: str,
    datasets: list[dict[str, Any]],
    *,
    name: str = "食品リスク研究",
    start: str = "2022-04-01",
    end: str = "2025-03-31",
    dmp_date: str = "2022-04-01",
    more: dict[str, str] | None = None,
) -> Path:
    """A DMP workbook of one project; each dataset is a dict by item key (number, name, ...; missing keys empty);
    `more`: other project columns (header: value)."""
    more = more or {}
    book = Workbook()
    sheet = book.active
    sheet.append(PROJECT_HEADERS + list(more) + list(DATASET_HEADERS.values()))
    for d in datasets:
        cells = [jgn, name, start, end, dmp_date, *more.values()]
        cells += [d.get(key, "") for key in DATASET_HEADERS]
        cells = [c if c != "" else None for c in cells]
        sheet.append(cells)
    book.save(path)
    return path
