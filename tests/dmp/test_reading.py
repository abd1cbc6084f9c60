"""Reading DMP files (gateway.dmp.reading): 別紙2 and AMED's form, ja and en, .xlsx and CSV as Excel saves it."""

from __future__ import annotations

from datetime import date

import pytest

from gateway.dmp import reading
from tests.dmp.files import AMED, AMED_PROJECT_JA, CAA, amed, amed_dataset, bessi2, dataset, projects_sheet, write

FORMATS = [(".xlsx", None), (".csv", "utf-8"), (".csv", "utf-8-sig"), (".csv", "cp932")]
SIX = [  # AMED's six データシェアリング方法, as the seed words them, and what the gateway reads them as
    ("非制限公開", "unrestricted_open", "open"),
    ("制限公開", "restricted_open", "restricted"),
    ("制限共有（外部関係者と共有）", "restricted_sharing_external", "restricted"),
    ("制限共有（内部関係者と共有）", "restricted_sharing_internal", "restricted"),
    ("非公開", "closed", "metadata-only"),
    ("その他（未定など）", "undecided", None),
]
SIX_EN = ["unrestricted open access", "restricted (controlled) access", "restricted sharing (with external parties)",
          "restricted sharing (within the project)", "not shared", "other (undecided)"]


def read(tmp_path, rows, suffix=".csv", encoding="utf-8-sig", name="dmp"):
    path = write(tmp_path / f"{name}{suffix}", rows, encoding or "utf-8")
    return path, reading.read_file(path)


THREE = [
    dataset("残留農薬の測定結果データ", registration_status="2024年5月31日登録済み"),
    dataset("試料の画像データ", data_access="非公開", metadata_disclosure="共有", storage="GakuNin RDM"),
    dataset("調査票データ", data_access="未定", metadata_disclosure="消費者庁と協議"),
]
THREE_EN = [
    dataset("Pesticide residue measurements", data_access="open access", metadata_disclosure="public"),
    dataset("Sample images", data_access="metadata only access", metadata_disclosure="shared"),
    dataset("Questionnaires", data_access="undecided", metadata_disclosure="undecided"),
]


@pytest.mark.parametrize(("suffix", "encoding"), FORMATS)
@pytest.mark.parametrize("lang", ["ja", "en"])
def test_bessi2_in_every_format_and_language(tmp_path, suffix, encoding, lang):
    rows = bessi2(THREE if lang == "ja" else THREE_EN, lang=lang, marks=encoding != "cp932")
    _, dmp = read(tmp_path, rows, suffix, encoding)
    assert (dmp.layout, dmp.declares_datasets, dmp.held) == ("table", True, [])
    (project,) = dmp.projects
    assert (project.jgn, project.name_ja, project.start, project.end) == (
        CAA, "食品中の化学物質のリスク評価研究", date(2023, 4, 1), date(2026, 3, 31))
    assert (project.program, project.dmp_date) == ("食品衛生基準科学研究費補助金", date(2024, 4, 1))
    assert project.investigator == {"pi_name": "山田太郎" if lang == "ja" else "Taro Yamada"}
    assert project.revisions == ["2024/06/01：データ3を追加"]
    got = [(d.name, d.access_right, d.metadata_disclosure, d.where) for d in project.datasets]
    names = [d["name"] for d in (THREE if lang == "ja" else THREE_EN)]
    assert got == [(names[0], "open", "public", "row 8"), (names[1], "metadata-only", "shared", "row 9"),
                   (names[2], None, "undecided", "row 10")]
    first = project.datasets[0]
    assert first.key == "title:" + "".join(c for c in names[0].lower() if c.isalnum())
    assert first.items["storage"] == "機関サーバ" and first.items["registrant"] == "鈴木花子"
    assert project.rows == [8, 9, 10]  # the empty numbered line and "..." are not rows


def test_bessi2_with_a_data_number_column_keys_datasets_by_number(tmp_path):
    rows = bessi2([dataset("A", number="Ｄ－０００１"), dataset("B", number="D-0002")], with_number=True)
    _, dmp = read(tmp_path, rows)
    assert [(d.number, d.key) for d in dmp.projects[0].datasets] == [("D-0001", "d-0001"), ("D-0002", "d-0002")]


def test_a_period_in_japanese_era_fiscal_years(tmp_path):
    _, dmp = read(tmp_path, bessi2(THREE[:1], period="令和5年度～令和7年度"))
    assert (dmp.projects[0].start, dmp.projects[0].end) == (date(2023, 4, 1), date(2026, 3, 31))


@pytest.mark.parametrize(("suffix", "encoding"), FORMATS)
def test_amed_form_in_japanese_with_the_six_sharing_methods(tmp_path, suffix, encoding):
    datasets = [amed_dataset(f"データ{i}", wording) for i, (wording, _, _) in enumerate(SIX, 1)]
    datasets[0]["staff"] = [("佐藤一郎（X大学）", "可"), ("伊藤花子（Y大学）", "否")]
    datasets[1]["staff"] = [("田中次郎（X大学）", "否")]
    datasets[2]["planned_date"] = "2026年4月1日"
    _, dmp = read(tmp_path, amed(datasets), suffix, encoding)
    assert (dmp.layout, dmp.declares_datasets, dmp.held) == ("form", True, [])
    (project,) = dmp.projects
    assert (project.jgn, project.name_ja, project.start, project.end) == (
        AMED, "iPS細胞由来心筋細胞の品質評価", date(2021, 4, 1), date(2024, 3, 31))
    assert project.program == "再生医療実現拠点ネットワークプログラム"
    assert project.investigator == {"pi_name": "山田太郎", "pi_affiliation": "国立大学法人X大学", "pi_title": "教授"}
    # what AMED's form marks as not published is kept apart
    assert project.private == {"pi_address": "東京都千代田区1-1", "pi_phone": "03-0000-0000",
                               "pi_email": "yamada@x-u.ac.jp"}
    assert [(d.sharing, d.access_right) for d in project.datasets] == [(key, acc) for _, key, acc in SIX]
    assert [d.where for d in project.datasets] == ["column B", "column C", "column D", "column E", "column F",
                                                   "column G"]
    first, second, third = project.datasets[:3]
    assert first.staff == [{"name": "佐藤一郎", "affiliation": "X大学", "public": True},
                           {"name": "伊藤花子", "affiliation": "Y大学", "public": False}]
    assert second.staff == [{"name": "田中次郎", "affiliation": "X大学", "public": False}]
    assert third.planned_date == date(2026, 4, 1) and first.planned_date is None
    assert first.items["count"] == "100" and first.items["consent_documents"] == "同意文書第2版"


@pytest.mark.parametrize(("suffix", "encoding"), [(".xlsx", None), (".csv", "utf-8")])
def test_amed_form_in_english(tmp_path, suffix, encoding):
    datasets = [amed_dataset(f"Data {i}", wording) for i, wording in enumerate(SIX_EN, 1)]
    datasets[0]["staff"] = [("Ichiro Sato (X University)", "yes")]
    _, dmp = read(tmp_path, amed(datasets, lang="en"), suffix, encoding)
    assert dmp.held == []
    (project,) = dmp.projects
    assert (project.jgn, project.name_ja, project.start, project.end) == (
        AMED, None, date(2021, 4, 1), date(2024, 3, 31))
    assert project.name_en == "Quality of iPS-derived cardiomyocytes"
    assert [d.sharing for d in project.datasets] == [key for _, key, _ in SIX]
    assert project.datasets[0].staff == [{"name": "Ichiro Sato", "affiliation": "X University", "public": True}]


def test_a_plain_table_of_datasets_of_two_projects(tmp_path):
    rows = [["体系的番号", "研究課題名", "研究期間", "データNo.", "データの名称", "データシェアリング方法"],
            [CAA, "食品研究", "2023-04-01～2026-03-31", "D-1", "測定データ", "非制限公開"],
            [AMED, "医療研究", "2021-04-01～2024-03-31", "D-1", "ゲノム", "制限共有（外部関係者と共有）"],
            [CAA, "食品研究", "2023-04-01～2026-03-31", "D-2", "画像", "非公開"]]
    _, dmp = read(tmp_path, rows)
    assert dmp.layout == "table" and dmp.held == []
    assert [(p.jgn, [d.key for d in p.datasets]) for p in dmp.projects] == [(CAA, ["d-1", "d-2"]), (AMED, ["d-1"])]


def test_a_sheet_of_project_periods_declares_no_datasets(tmp_path):
    _, dmp = read(tmp_path, projects_sheet([[CAA, "食品研究", "2023-04-01", "2026-03-31"]]))
    assert (dmp.layout, dmp.declares_datasets) == ("projects", False)
    assert [(p.jgn, p.end, p.datasets) for p in dmp.projects] == [(CAA, date(2026, 3, 31), [])]


def test_bad_rows_of_bessi2_are_held_and_the_rest_is_read(tmp_path):
    rows = bessi2([
        dataset("良いデータ"),
        dataset("悪い公開区分", metadata_disclosure="たぶん公開"),
        dataset("悪いアクセス権", data_access="いつか"),
        dataset("良いデータ"),  # the same name twice in a project
        dataset("", description="名前のない行"),
        dataset("最後のデータ"),
    ])
    path, dmp = read(tmp_path, rows)
    assert [d.name for d in dmp.projects[0].datasets] == ["良いデータ", "最後のデータ"]
    held = {h.row: h for h in dmp.held}
    assert sorted(held) == [9, 10, 11, 12]
    assert (held[9].file, held[9].column, held[9].value) == (str(path), "メタデータ の公開/共有/ 非共有³", "たぶん公開")
    assert "公開, 共有 or 非共有" in held[9].expected
    assert str(held[9]).startswith(f"{path}: row 9, column 'メタデータ の公開/共有/ 非共有³': 'たぶん公開' is not")
    assert (held[10].column, held[10].value) == ("研究データ の公開/共有/ 非公開/非共有³", "いつか")
    assert "appears twice in project" in held[11].message and held[11].value == "良いデータ"
    assert held[12].column == "管理対象 データ名称²" and held[12].message == "the cell is empty"


def test_bad_columns_of_amed_form_are_held_and_the_rest_is_read(tmp_path):
    datasets = [amed_dataset("良い", "非制限公開"), amed_dataset("悪い方法", "制限付き"),
                amed_dataset("悪い日付", "非公開", planned_date="2025-02-30"),
                amed_dataset("悪い可否", "非公開", staff=[("佐藤（X大学）", "多分")]), amed_dataset("最後", "制限公開")]
    path, dmp = read(tmp_path, amed(datasets))
    assert [d.name for d in dmp.projects[0].datasets] == ["良い", "最後"]
    by_column = {h.column: h for h in dmp.held}
    assert sorted(by_column) == ["C", "D", "E"]
    sharing_row = 10 + list(amed_dataset("x", "y")).index("sharing") + 1  # the project's 10 lines come first
    assert (by_column["C"].row, by_column["C"].value) == (sharing_row, "制限付き")
    assert "非制限公開" in by_column["C"].expected and "制限共有（外部関係者と共有）" in by_column["C"].expected
    assert by_column["D"].value == "2025-02-30" and "exist" in by_column["D"].message
    assert by_column["E"].value == "多分" and "可" in by_column["E"].expected
    assert str(by_column["C"]).startswith(f"{path}: row {sharing_row}, column 'C': '制限付き'")


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (bessi2(THREE, period="いつか"), ["row 4", "'研究期間'", "'いつか'", "period"]),
        ([["研究期間：2023-04-01～2026-03-31"], ["管理対象データ名称", "研究データの説明", "色"], ["a", "b", "c"]],
         ["row 2", "unknown column", "'色'"]),
        ([["研究期間：2023-04-01～2026-03-31"], ["管理対象データ名称", "データの名称", "説明"], ["a", "b", "c"]],
         ["row 2", "appears twice"]),
        ([["管理対象データ名称", "研究データの説明"], ["a", "b"]], ["missing required column", "体系的番号"]),
        ([["こんにちは", "世界"], ["a", "b"]], ["no header row"]),
    ],
)
def test_a_file_that_cannot_be_read_raises(tmp_path, rows, expected):
    with pytest.raises(reading.DmpImportError) as err:
        read(tmp_path, rows)
    message = str(err.value)
    assert message.startswith(str(tmp_path / "dmp.csv")), message
    for part in expected:
        assert part in message, message


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("dmp.csv", b"", "empty"),
        ("dmp.csv", "研究期間".encode()[:-1] + b"\xff\xfe\x80", "encoding"),
        ("dmp.xlsx", b"PK\x03\x04 not really a workbook", "not a usable .xlsx"),
        ("dmp.txt", b"x", "not a .xlsx or .csv"),
    ],
)
def test_a_file_that_is_not_a_sheet_raises(tmp_path, name, data, expected):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(reading.DmpImportError, match=expected):
        reading.read_file(path)


def test_amed_project_number_without_jp_is_the_grant_number(tmp_path):
    project = [(label, "21ab0101001h0001" if label == "課題管理番号" else value) for label, value in AMED_PROJECT_JA]
    _, dmp = read(tmp_path, amed([amed_dataset("ゲノム", "非公開")], project=project))
    assert dmp.projects[0].jgn == AMED
