"""An AMED DMP for the sharing-transition and catalogue tests: a project that ended on 2024-03-31 with two datasets
under 制限共有 (one of each kind), one 非制限公開 and one 非公開, and a distinctive value in every item the DMP form
marks as not published, so that a test can show none of them reaches any output.

The issue's figures: a paper accepted 14 months after the end (2025-05-31) makes D-1's transition date that day,
earlier than end + 2 years (2026-03-31), which stays D-2's; the reviews are at 2026-03-31 and 2028-03-31.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

JGN = "JP21ab0101001"
END = "2024-03-31"
PAPER = "2025-05-31"  # 14 months after the end
END_PLUS_2 = "2026-03-31"
END_PLUS_4 = "2028-03-31"

#: the items the DMP form marks as not published, each with a value found nowhere else
SECRETS = {
    "pi_address": "秘密町9-9-9-SECRETADDR",
    "pi_phone": "03-0000-SECRETTEL",
    "pi_email": "secret-pi-mail@example.invalid",
    "staff_no": "隠田秘子SECRETSTAFF",
    "staff_unknown": "不明野SECRETUNKNOWN",
}

_HEADER = (
    "データNo.,管理対象データ名称,研究データの説明,データの件数,概略データ量,データシェアリング方法,公開予定日,"
    "リポジトリ情報,データ管理機関,研究データ管理者,データ関連人材,公表の可否"
)
_ROWS = (
    "D-1,臨床データ,臨床情報の説明,100,1-10GB,制限共有（外部関係者と共有）,2026-03-31,自機関サーバー,東京医科大学,"
    f"佐藤花子,公表一郎（東京医科大学）;{SECRETS['staff_no']}（京都大学）;{SECRETS['staff_unknown']}（大阪大学）,可;否",
    "D-2,オミックスデータ,オミックス解析の説明,50,<1GB,制限共有（内部関係者と共有）,,自機関サーバー,東京医科大学,"
    "佐藤花子,,",
    "D-3,公開データ,公開用データの説明,10,<1GB,非制限公開,2024-03-31,NBDC,東京医科大学,佐藤花子,,",
    "D-4,非公開データ,非公開データの説明,5,<1GB,非公開,,,東京医科大学,佐藤花子,,",
)


def write_dmp(path: Path, *, dmp_date: str = "2024-04-01", jgn: str = JGN, rows: tuple[str, ...] = _ROWS) -> Path:
    """The DMP as a CSV: the project's items on lines above the table (as 別紙2 has them), then one row per dataset."""
    lines = [
        f"DMP作成日,{dmp_date}",
        "研究事業名,ゲノム医療実現推進プラットフォーム事業",
        f"体系的番号,{jgn}",
        "研究課題名,ゲノム研究|Genome study",
        f"研究期間,2021-04-01～{END}",
        "研究代表者名,山田太郎",
        "所属機関,東京医科大学",
        "役職,教授",
        f"所属機関住所,{SECRETS['pi_address']}",
        f"電話番号,{SECRETS['pi_phone']}",
        f"メールアドレス,{SECRETS['pi_email']}",
        _HEADER,
        *rows,
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_config(folder: Path, sources: str = "") -> Path:
    """A configuration file for the command line (the database URL is given with --database-url)."""
    path = folder / "gateway.toml"
    path.write_text(
        '[repository]\nname = "Test"\nidentifier = "gateway.test.ac.jp"\nadmin_email = ["rdm@test.ac.jp"]\n' + sources,
        encoding="utf-8",
    )
    return path


def write_records(folder: Path, d1_access: str) -> None:
    """Records of D-1 (with the access right given) and D-2 (restricted) in a directory source's folder."""
    from tests.support.records import dataset

    folder.mkdir(exist_ok=True)
    records = {
        "d1": dataset("臨床データ", data_no="D-1", jgn=JGN, access=d1_access, doi="10.99999/amed.1"),
        "d2": dataset("オミックスデータ", data_no="D-2", jgn=JGN, access="restricted", doi="10.99999/amed.2"),
    }
    for name, xml in records.items():
        (folder / f"{name}.xml").write_text(xml, encoding="utf-8")
    (folder / "manifest.toml").write_text("", encoding="utf-8")


def harvested_project(engine: Any, db_url: str, tmp_path: Path, monkeypatch: Any) -> tuple[Any, Any]:
    """The DMP imported, D-1's paper recorded, the records of D-1 (restricted) and D-2 harvested from a directory
    source: (config, sessions). GATEWAY_CONFIG names the configuration, which a later DMP import reads."""
    from gateway.config import load
    from gateway.db import session_factory, transaction
    from gateway.dmp import publications
    from gateway.dmp.versions import import_file
    from gateway.harvest.runner import run_harvest

    sessions = session_factory(engine)
    import_file(sessions, write_dmp(tmp_path / "dmp.csv"), now=datetime(2024, 4, 2))
    with transaction(sessions) as s:
        publications.record(s, JGN, published_on=date.fromisoformat(PAPER), kind="paper", dataset="D-1")
    write_records(tmp_path / "files", "restricted")
    path = write_config(tmp_path, '[[sources]]\nname = "files"\nkind = "directory"\npath = "files"\n')
    config = load(path, database_url=db_url)
    monkeypatch.setenv("GATEWAY_CONFIG", str(path))
    run = run_harvest(config, sessions, config.sources[0])
    assert run.status == "succeeded", run.message
    return config, sessions
