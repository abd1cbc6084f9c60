"""What one version of a project's DMP changed against the version before, and how that is said in ja and en.

The guideline asks for the DMP's history (§5 2)-3); what matters to the gateway in it is which datasets came and
went (by their key: the data number, else the normalised name) and, per dataset, whether the AMED sharing method, the
metadata disclosure or the data's access right changed, since those decide what may be published and when restricted
sharing must open. `compare` gives that as plain data (kept in `dmp_versions.changes`, so the history reads without
re-comparing); `describe` turns it into the short sentence `gateway dmp history`, the API and the dashboard show.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from gateway.dmp import values

#: the per-dataset fields whose change is recorded, with their labels
FIELDS = {
    "sharing": ("データシェアリング方法", "sharing"),
    "metadata_disclosure": ("メタデータの公開区分", "metadata"),
    "access_right": ("データのアクセス権", "data access"),
}
_DISCLOSURE = {
    "public": ("公開", "public"),
    "shared": ("共有", "shared"),
    "private": ("非共有", "not shared"),
    "undecided": ("未定", "undecided"),
}
_ACCESS = {
    "open": ("公開", "open access"),
    "restricted": ("共有", "restricted access"),
    "metadata-only": ("非公開・非共有", "metadata only access"),
    "embargoed": ("公開猶予", "embargoed access"),
}


def snapshot(key: str, number: str | None, name: str, fields: dict[str, Any]) -> dict[str, Any]:
    """A dataset as `compare` needs it."""
    return {"key": key, "number": number, "name": name, **{f: fields.get(f) for f in FIELDS}}


def compare(
    before: list[dict[str, Any]] | None,
    after: list[dict[str, Any]],
    *,
    period_before: tuple[date, date] | None,
    period_after: tuple[date, date],
    name_before: str | None = None,
    name_after: str | None = None,
    carried_from: int | None = None,
) -> dict[str, Any]:
    """The changes from `before` (None: there is no earlier version) to `after`, datasets as `snapshot` gives them."""
    out: dict[str, Any] = {"first": before is None, "added": [], "removed": [], "changed": [], "period": None}
    if carried_from is not None:
        out["carried_from"] = carried_from
    if before is None:
        return out
    old = {d["key"]: d for d in before}
    new = {d["key"]: d for d in after}
    out["added"] = [_ref(d) for d in after if d["key"] not in old]
    out["removed"] = [_ref(d) for d in before if d["key"] not in new]
    for d in after:
        earlier = old.get(d["key"])
        if earlier is None:
            continue
        fields = {f: [earlier.get(f), d.get(f)] for f in FIELDS if earlier.get(f) != d.get(f)}
        if fields:
            out["changed"].append({**_ref(d), "fields": fields})
    if period_before is not None and tuple(period_before) != tuple(period_after):
        out["period"] = [[d.isoformat() for d in period_before], [d.isoformat() for d in period_after]]
    if name_before != name_after and name_before is not None:
        out["name"] = [name_before, name_after]
    return out


def _ref(dataset: dict[str, Any]) -> dict[str, Any]:
    return {"key": dataset["key"], "number": dataset.get("number"), "name": dataset.get("name")}


def value_label(field: str, value: str | None, lang: str = "en") -> str:
    """A recorded value as people write it: 制限共有（外部関係者と共有）, 公開 / public, ..."""
    index = 0 if lang == "ja" else 1
    if value is None:
        return "（なし）" if lang == "ja" else "(none)"
    if field == "sharing":
        info = values.sharing_info(value)
        return str(info.get("ja" if lang == "ja" else "en") or value)
    table = _DISCLOSURE if field == "metadata_disclosure" else _ACCESS
    return table.get(value, (value, value))[index]


def _name(ref: dict[str, Any]) -> str:
    return str(ref.get("number") or ref.get("name") or ref.get("key"))


def describe(changes: dict[str, Any], lang: str = "en") -> str:
    """One line: "first version", "no change", or what changed ("+1 dataset (D-0009); D-0002: sharing A → B")."""
    ja = lang == "ja"
    parts: list[str] = []
    if changes.get("first"):
        parts.append("初版" if ja else "first version")
    added, removed = changes.get("added") or [], changes.get("removed") or []
    if added and not changes.get("first"):
        names = ", ".join(_name(r) for r in added)
        parts.append(f"追加 {len(added)}件 ({names})" if ja else
                     f"+{len(added)} dataset{'s' if len(added) != 1 else ''} ({names})")
    if removed:
        names = ", ".join(_name(r) for r in removed)
        parts.append(f"削除 {len(removed)}件 ({names})" if ja else
                     f"-{len(removed)} dataset{'s' if len(removed) != 1 else ''} ({names})")
    for entry in changes.get("changed") or []:
        said = [
            f"{FIELDS[f][0 if ja else 1]} {value_label(f, old, lang)} → {value_label(f, new, lang)}"
            for f, (old, new) in entry["fields"].items()
        ]
        parts.append(f"{_name(entry)}: " + ", ".join(said))
    if changes.get("period"):
        (s0, e0), (s1, e1) = changes["period"]
        parts.append(f"{'研究期間' if ja else 'period'} {s0}–{e0} → {s1}–{e1}")
    if changes.get("name"):
        old, new = changes["name"]
        parts.append(f"{'課題名' if ja else 'name'} {old} → {new}")
    for ref in changes.get("kept") or []:
        parts.append(f"{_name(ref)}: 行が保留のため第{ref['version']}版のまま" if ja else
                     f"{_name(ref)} kept from version {ref['version']} (its row is held)")
    if not parts:
        parts.append("変更なし" if ja else "no change")
    if changes.get("carried_from") is not None:
        version = changes["carried_from"]
        parts.append(f"データセットは第{version}版のまま" if ja else f"datasets kept from version {version}")
    return "; ".join(parts)
