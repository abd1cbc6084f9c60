"""AMED DataCat: the DMP items AMED publishes in its data catalogue (研究開発データ利活用カタログ), one row per dataset.

AMED's DMP guidance says the green items of the DMP form are published in the catalogue, and names them: the project
(事業名, 課題名, 研究開発代表者: 所属機関, 役職, 氏名), each dataset (データの名称, 説明, 件数, 概略データ量,
データシェアリング方法, 公開予定日, リポジトリ情報) and the people who manage it (データ管理機関, データ管理者,
データ関連人材). It also says what is *not* published: the PI's address, telephone and e-mail (所属機関住所・電話番号・
メールアドレス: "公開はされません"), and each data-related person whose 公表の可否 is 否.

So the catalogue is written from a list of the items it may carry (`ITEMS`), never from "everything but the private
ones": an item the gateway learns to read later stays out until it is added here. On top of that, an item that
mappings/dmp/columns.toml marks `private = true` is dropped even if it is listed, the PI's private items
(`DmpVersion.private`) are never read, and the raw cells of データ関連人材 and 公表の可否 are never copied: the staff
column is built from `DmpDataset.staff`, with only the people whose 公表の可否 is an explicit 可. A person whose 公表の
可否 is not given, or cannot be read, is not published either: the form asks for consent, and no answer is not one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.dmp import layout
from gateway.dmp.values import sharing_info
from gateway.models import DmpDataset, DmpVersion
from gateway.reports.common import ReportError
from gateway.reports.writers import Column, render

#: (column key, where it is read: "project:<item>", "pi:<item>", "dataset:<item>" (a cell as written) or a field of
#: DmpDataset/DmpVersion, header) — the items AMED's catalogue publishes, in the form's order
ITEMS: tuple[tuple[str, str, str], ...] = (
    ("program", "project:program", "事業名 program"),
    ("jgn", "project:jgn", "体系的番号 JGN"),
    ("project_name_ja", "project:name", "研究開発課題名 project name"),
    ("project_name_en", "project:name_en", "研究開発課題名（英語） project name (en)"),
    ("start", "project:start", "研究開発期間（開始） start"),
    ("end", "project:end", "研究開発期間（終了） end"),
    ("pi_name", "pi:pi_name", "研究開発代表者 氏名 principal investigator"),
    ("pi_affiliation", "pi:pi_affiliation", "研究開発代表者 所属機関 affiliation"),
    ("pi_title", "pi:pi_title", "研究開発代表者 役職 position"),
    ("position", "dataset:position", "No."),
    ("data_number", "dataset:number", "データNo. data number"),
    ("name", "dataset:name", "データの名称 data name"),
    ("description", "dataset:description", "データの説明 description"),
    ("count", "dataset:count", "データの件数 number of records"),
    ("size", "dataset:size", "概略データ量 approximate size"),
    ("sharing", "dataset:sharing", "データシェアリング方法 data sharing method"),
    ("planned_date", "dataset:planned_date", "公開予定日 planned publication date"),
    ("repository", "dataset:repository", "リポジトリ情報 repository"),
    ("identifier", "dataset:identifier", "リポジトリURL・DOIリンク repository URL / DOI"),
    ("institution", "dataset:institution", "データ管理機関 data managing institution"),
    ("manager", "dataset:manager", "データ管理者 data manager"),
    ("staff", "dataset:staff", "データ関連人材 data-related staff"),
)
_DATES = {"start", "end", "planned_date"}


def _private_items() -> set[str]:
    return {item.key for item in layout.items() if item.private}


def published_items() -> list[tuple[str, str, str]]:
    """ITEMS without any that mappings/dmp/columns.toml marks private (a repository manager may mark more)."""
    private = _private_items()
    return [entry for entry in ITEMS if entry[1].split(":", 1)[1] not in private]


def _staff(dataset: DmpDataset) -> str | None:
    public = [p for p in dataset.staff or [] if isinstance(p, dict) and p.get("public") is True]
    people = [
        f"{p['name']}（{p['affiliation']}）" if p.get("affiliation") else str(p.get("name") or "") for p in public
    ]
    return "; ".join(p for p in people if p) or None


def _value(source: str, version: DmpVersion, dataset: DmpDataset, position: int) -> Any:
    level, key = source.split(":", 1)
    if level == "project":
        found = {
            "program": version.program,
            "jgn": version.jgn,
            "name": version.name_ja,
            "name_en": version.name_en,
            "start": version.start_date.isoformat(),
            "end": version.end_date.isoformat(),
        }
        return found[key]
    if level == "pi":
        return (version.investigator or {}).get(key) or None
    if key == "position":
        return position
    if key == "number":
        return dataset.number
    if key == "name":
        return dataset.name
    if key == "sharing":
        info = sharing_info(dataset.sharing)
        return f"{info['ja']} ({info['en']})" if info else None
    if key == "planned_date":
        return dataset.planned_date.isoformat() if dataset.planned_date else None
    if key == "staff":
        return _staff(dataset)
    return (dataset.items or {}).get(key) or None


def catalogue(session: Session, *, project: str | None = None) -> list[dict[str, Any]]:
    """One row per dataset of each project's current DMP, with the catalogue's items only."""
    from gateway.dmp.versions import current_datasets

    datasets = current_datasets(session, project)
    query = select(DmpVersion).where(DmpVersion.current.is_(True)).order_by(DmpVersion.jgn)
    if project:
        query = query.where(DmpVersion.jgn == project)
    versions = list(session.scalars(query))
    if project and not versions:
        raise ReportError(f"no DMP is imported for project {project!r}")
    items = published_items()
    rows = []
    for version in versions:
        own = sorted((d for d in datasets if d.version_id == version.id), key=lambda d: d.position)
        for position, dataset in enumerate(own, 1):
            rows.append({key: _value(source, version, dataset, position) for key, source, _ in items})
    return rows


def columns() -> Sequence[Column]:
    wide = {"description", "project_name_en", "identifier", "pi_title", "program"}
    return tuple(
        Column(key, header, "date" if key in _DATES else "int" if key == "position" else "text", key not in wide)
        for key, _, header in published_items()
    )


def write_catalogue(rows: Sequence[dict[str, Any]], fmt: str, out: IO[bytes]) -> None:
    render(rows, columns(), fmt, out, sheet="AMED DataCat")
