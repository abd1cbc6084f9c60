"""DMP files as people fill them in, for the DMP tests: the food-safety sample form (別紙2) and AMED's DMP form, in
Japanese or English, written as .xlsx or as CSV the way Excel saves it (UTF-8, UTF-8 with BOM, CP932 with CRLF).

The labels are the seeds' own wordings (../shared/reference/seeds/: 002_* for 別紙2, 000_* for AMED's items and its
six データシェアリング方法).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from openpyxl import Workbook

CAA = "JPCACAA23456789"  # 課題番号 23456789 of the food-safety grants (JPCACAA + 8 digits)
AMED = "JP21ab0101001"

# 別紙2's table columns, in the form's order, as the seed writes them (the PDF's line breaks become spaces)
BESSI2_JA = [
    ("name", "管理対象 データ名称²"),
    ("description", "研究データ の説明"),
    ("creator", "研究データ 作成者"),
    ("manager", "研究データ 管理者"),
    ("storage", "研究データ 保存場所"),
    ("data_access", "研究データ の公開/共有/ 非公開/非共有³"),
    ("location", "研究データ の公開・提 供場所"),
    ("metadata_disclosure", "メタデータ の公開/共有/ 非共有³"),
    ("registration_method", "メタデータ 登録方法⁴"),
    ("registrant", "メタデータ 登録者⁵"),
    ("registration_status", "メタデータ 登録状況⁶"),
]
BESSI2_EN = [
    ("name", "Data name"),
    ("description", "Description"),
    ("creator", "Creator"),
    ("manager", "Data manager"),
    ("storage", "Storage location"),
    ("data_access", "Data: open / shared / closed"),
    ("location", "Where the data is published or provided"),
    ("metadata_disclosure", "Metadata: public / shared / not shared"),
    ("registration_method", "How the metadata is registered"),
    ("registrant", "Who registers the metadata"),
    ("registration_status", "Registration status"),
]


def dataset(name: str, **cells: str) -> dict[str, str]:
    """One dataset of 別紙2: every column filled with something plausible unless given."""
    base = {
        "name": name, "description": f"{name}の説明", "creator": "山田太郎", "manager": "山田太郎",
        "storage": "機関サーバ", "data_access": "公開", "location": "機関リポジトリ", "metadata_disclosure": "公開",
        "registration_method": "機関リポジトリ", "registrant": "鈴木花子", "registration_status": "未登録",
    }  # fmt: skip
    base.update(cells)
    return base


def bessi2(
    datasets: list[dict[str, str]],
    *,
    lang: str = "ja",
    number: str | None = None,
    period: str = "2023年4月1日～2026年3月31日",
    project: str = "食品中の化学物質のリスク評価研究（23456789）",
    program: str = "食品衛生基準科学研究費補助金",
    dmp_date: str = "2024/04/01",
    marks: bool = True,
    revisions: tuple[str, ...] = ("2024/06/01：データ3を追加",),
    with_number: bool = False,
) -> list[list[str]]:
    """The rows of a 別紙2 sheet: project lines, the table (numbered in its unlabelled first column), 改訂履歴."""
    columns = BESSI2_JA if lang == "ja" else BESSI2_EN
    if not marks:  # CP932 has no superscript digits: Excel users write ※2 or nothing
        columns = [(k, label.rstrip("²³⁴⁵⁶").replace(" ", "") + ("※" + "2" if k == "name" else "")) for k, label in
                   columns]
    if with_number:
        columns = [("number", "データNo." if lang == "ja" else "Data No."), *columns]
    if lang == "ja":
        lines = [[f"DMP 作成日：{dmp_date}"], [f"研究事業名：{program}"], [f"研究課題名（課題番号）：{project}"],
                 [f"研究期間：{period}"], ["研究代表者名（DMP 作成者）：山田太郎"]]
    else:
        lines = [["DMP date:", dmp_date], ["Program:", program], [f"Project name (project number): {project}"],
                 ["Project period", period], ["Principal investigator (author of the DMP): Taro Yamada"]]
    rows = [*lines, [], ["", *(label for _, label in columns)]]
    for index, entry in enumerate(datasets, 1):
        rows.append([str(index), *(entry.get(key, "") for key, _ in columns)])
    rows.append([str(len(datasets) + 1)])  # the form's next empty line
    rows.append(["..."])
    if revisions:
        rows.append(["", "改訂履歴：" if lang == "ja" else "Revision history:"])
        rows.extend(["", text] for text in revisions)
    return rows


# AMED's items down column A, one column per dataset; データ関連人材 + 公表の可否 repeat, one pair per person
AMED_PROJECT_JA = [
    ("事業名", "再生医療実現拠点ネットワークプログラム"),
    ("課題管理番号", AMED),
    ("課題名", "iPS細胞由来心筋細胞の品質評価"),
    ("研究開発期間", "2021年4月1日～2024年3月31日"),
    ("研究開発代表者 所属機関", "国立大学法人X大学"),
    ("研究開発代表者 役職", "教授"),
    ("研究開発代表者 氏名", "山田太郎"),
    ("所属機関住所", "東京都千代田区1-1"),
    ("電話番号", "03-0000-0000"),
    ("メールアドレス", "yamada@x-u.ac.jp"),
]
AMED_PROJECT_EN = [
    ("Program", "Research Center Network for Realization of Regenerative Medicine"),
    ("Project number", AMED),
    ("Project name", "Quality of iPS-derived cardiomyocytes"),
    ("Project period", "2021-04-01 to 2024-03-31"),
    ("Affiliation", "X University"),
    ("Position", "Professor"),
    ("Principal investigator", "Taro Yamada"),
    ("Address", "1-1 Chiyoda, Tokyo"),
    ("Telephone", "03-0000-0000"),
    ("E-mail", "yamada@x-u.ac.jp"),
]
AMED_ITEMS = {  # key -> (ja, en)
    "name": ("データの名称", "Data name"),
    "description": ("説明", "Description"),
    "count": ("データの件数", "Number of records"),
    "size": ("概略データ量", "Approximate size"),
    "sharing": ("データシェアリング方法", "Data sharing method"),
    "planned_date": ("公開予定日", "Planned publication date"),
    "consent_documents": ("使用した同意文書・説明文書", "Consent documents"),
    "repository": ("リポジトリ情報（データ登録先）", "Repository"),
    "institution": ("データ管理機関", "Data managing institution"),
    "manager": ("データ管理者", "Data manager"),
}


def amed_dataset(name: str, sharing: str, **cells: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": name, "description": f"{name}の説明", "count": "100", "size": "1-10GB", "sharing": sharing,
        "planned_date": "", "consent_documents": "同意文書第2版", "repository": "NBDC", "institution": "X大学",
        "manager": "山田太郎", "staff": [],
    }  # fmt: skip
    base.update(cells)
    return base


def amed(datasets: list[dict[str, Any]], *, lang: str = "ja", project: list[tuple[str, str]] | None = None,
         ) -> list[list[str]]:
    """The rows of AMED's DMP form: the project's items, then each dataset item with one column per dataset."""
    rows = [[label, value] for label, value in (project or (AMED_PROJECT_JA if lang == "ja" else AMED_PROJECT_EN))]
    for key, (ja, en) in AMED_ITEMS.items():
        rows.append([ja if lang == "ja" else en, *(str(d.get(key, "")) for d in datasets)])
    people = max((len(d["staff"]) for d in datasets), default=0)
    for index in range(max(people, 1)):
        rows.append(["データ関連人材" if lang == "ja" else "Data-related staff",
                     *(d["staff"][index][0] if index < len(d["staff"]) else "" for d in datasets)])
        rows.append(["公表の可否" if lang == "ja" else "May be published",
                     *(d["staff"][index][1] if index < len(d["staff"]) else "" for d in datasets)])
    return rows


def projects_sheet(rows: list[list[str]], lang: str = "en") -> list[list[str]]:
    header = (["Japan Grant Number", "Project name", "Start date", "End date"] if lang == "en" else
              ["体系的番号", "研究課題名", "研究開始日", "研究終了日"])
    return [header, *rows]


def write(path: Path, rows: list[list[Any]], encoding: str = "utf-8-sig") -> Path:
    """An .xlsx workbook (first sheet) or a CSV as Excel saves it: quoted where needed, CRLF line ends."""
    if path.suffix == ".xlsx":
        book = Workbook()
        sheet = book.active
        for row in rows:
            sheet.append([None if v == "" else v for v in row])
        book.save(path)
        return path
    text = io.StringIO(newline="")
    csv.writer(text, lineterminator="\r\n").writerows(rows)
    path.write_bytes(text.getvalue().encode(encoding))
    return path
