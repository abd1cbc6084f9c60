"""Japanese and English labels of the admin pages, and the visitor's choice between them.

The choice is made with `?lang=ja|en` on any /admin URL and kept in a cookie (not in the login session, so that the
login page itself can be switched, and a language survives logging out). Without a choice, the browser's
Accept-Language decides, and Japanese is the default: the gateway's users are Japanese repository managers.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, g, request

LANGUAGES = ("ja", "en")
DEFAULT_LANGUAGE = "ja"
COOKIE = "gateway_lang"
COOKIE_MAX_AGE = 365 * 86400

# key -> (Japanese, English)
LABELS: dict[str, tuple[str, str]] = {
    "app_title": ("ゲートウェイ管理", "Gateway administration"),
    "nav_overview": ("概要", "Overview"),
    "nav_sources": ("ソース", "Sources"),
    "nav_runs": ("収集履歴", "Runs"),
    "nav_records": ("レコード", "Records"),
    "nav_quarantine": ("隔離", "Quarantine"),
    "nav_projects": ("プロジェクト", "Projects"),
    "logout": ("ログアウト", "Log out"),
    "login": ("ログイン", "Log in"),
    "login_title": ("管理画面へのログイン", "Log in to the administration"),
    "username": ("ユーザー名", "User name"),
    "password": ("パスワード", "Password"),
    "language": ("言語", "Language"),
    "signed_in_as": ("ログイン中", "Signed in as"),
    "role_manager": ("管理者", "manager"),
    "role_viewer": ("閲覧者", "viewer"),
    # overview
    "overview_title": ("概要", "Overview"),
    "provider_totals": ("プロバイダの合計", "Provider totals"),
    "served_records": ("提供中のレコード", "Records served"),
    "served_deleted": ("削除レコード（提供中）", "Deleted records served"),
    "oai_sets": ("セット数", "Sets"),
    "all_records": ("保持レコード", "Records held"),
    "latest_errors": ("最近のエラー", "Latest errors"),
    "no_errors": ("最近のエラーはありません。", "No recent errors."),
    "source": ("ソース", "Source"),
    "kind": ("種類", "Kind"),
    "state": ("状態", "State"),
    "last_run": ("最終収集", "Last run"),
    "result": ("結果", "Result"),
    "next_run": ("次回予定", "Next scheduled run"),
    "not_scheduled": ("予定なし", "not scheduled"),
    "never": ("未実施", "never"),
    "enabled": ("有効", "enabled"),
    "disabled": ("無効", "disabled"),
    "running_now": ("収集中", "harvesting now"),
    # statuses
    "published": ("公開中", "published"),
    "withheld": ("非提供", "withheld"),
    "quarantined": ("隔離", "quarantined"),
    "deleted": ("削除", "deleted"),
    "succeeded": ("成功", "succeeded"),
    "failed": ("失敗", "failed"),
    "running": ("実行中", "running"),
    "incremental": ("差分", "incremental"),
    "full": ("全件", "full"),
    # sources
    "sources_title": ("ソース", "Sources"),
    "add_source": ("ソースを追加", "Add a source"),
    "edit_source": ("ソースを編集", "Edit source"),
    "export_toml": ("TOML で書き出す", "Export as TOML"),
    "test_connection": ("接続テスト", "Test connection"),
    "harvest_now": ("今すぐ収集", "Harvest now"),
    "full_harvest": ("全件再収集", "Full re-harvest"),
    "enable": ("有効にする", "Enable"),
    "disable": ("無効にする", "Disable"),
    "delete": ("削除", "Delete"),
    "edit": ("編集", "Edit"),
    "save": ("保存", "Save"),
    "cancel": ("キャンセル", "Cancel"),
    "origin": ("定義元", "Defined in"),
    "origin_config": ("設定ファイル", "configuration file"),
    "origin_dashboard": ("管理画面", "dashboard"),
    "confirm_delete": (
        "このソースを削除しますか？収集済みレコードはデータベースに残ります。",
        "Delete this source? Records already harvested stay in the database.",
    ),
    "field_name": ("名前", "Name"),
    "field_kind": ("種類", "Kind"),
    "field_url": ("URL（OAI-PMH）", "URL (OAI-PMH)"),
    "field_path": ("フォルダ（directory）", "Folder (directory)"),
    "field_metadata_prefix": ("メタデータ形式", "Metadata format"),
    "field_metadata_disclosure": ("メタデータの公開区分", "Metadata disclosure"),
    "field_sets": ("セット（空白区切り、空なら全件）", "Sets (space separated; empty: all)"),
    "field_schedule": ("スケジュール（cron, UTC）", "Schedule (cron, UTC)"),
    "field_profile": ("検証プロファイル", "Validation profile"),
    "field_enabled": ("有効", "Enabled"),
    "field_timeout": ("タイムアウト（秒）", "Timeout (seconds)"),
    "field_max_retries": ("最大再試行回数", "Max retries"),
    "field_retry_ceiling": ("再試行待ちの上限（秒）", "Retry ceiling (seconds)"),
    "field_min_delay": ("リクエスト間隔（秒）", "Delay between requests (seconds)"),
    "field_repository_name": ("リポジトリ名（別表3 項目12）", "Repository name (Annex-3 item 12)"),
    "name_fixed": ("名前は識別子の一部なので変更できません。", "The name is part of identifiers and cannot change."),
    "connection_ok": ("接続できました", "Connection works"),
    "connection_failed": ("接続できません", "Connection failed"),
    "identify": ("Identify", "Identify"),
    "formats": ("メタデータ形式（ListMetadataFormats）", "Metadata formats (ListMetadataFormats)"),
    "sets": ("セット（ListSets）", "Sets (ListSets)"),
    "none": ("なし", "none"),
    "saved": ("保存しました。", "Saved."),
    "source_deleted": ("ソースを削除しました。", "Source deleted."),
    "harvest_started": ("収集を開始しました。", "Harvest started."),
    "no_sources": ("ソースがありません。", "No sources yet."),
    # runs
    "runs_title": ("収集履歴", "Harvest runs"),
    "run": ("収集", "Run"),
    "mode": ("方式", "Mode"),
    "status": ("状態", "Status"),
    "started": ("開始", "Started"),
    "finished": ("終了", "Finished"),
    "seconds": ("秒", "Seconds"),
    "pages": ("ページ", "Pages"),
    "new": ("新規", "New"),
    "changed": ("変更", "Changed"),
    "unchanged": ("変更なし", "Unchanged"),
    "records_deleted": ("削除", "Deleted"),
    "records_failed": ("失敗", "Failed"),
    "requests": ("リクエスト", "Requests"),
    "retries": ("再試行", "Retries"),
    "restarts": ("リスト再開始", "List restarts"),
    "repairs": ("修復", "Repairs"),
    "records_held": ("保留（隔離）", "Held (quarantined)"),
    "records_repeated": ("再掲（1回だけ適用）", "Listed again (applied once)"),
    "checkpoint": ("チェックポイント", "Checkpoint"),
    "checkpoint_note": (
        "次回の収集はこの実行の最後に保存したページの続きから再開します。",
        "The next harvest continues after the last page this run stored.",
    ),
    "warnings": ("警告", "Warnings"),
    "errors": ("エラー", "Errors"),
    "message": ("メッセージ", "Message"),
    "no_runs": ("収集履歴はまだありません。", "No harvest runs yet."),
    "newer": ("新しい方へ", "Newer"),
    "older": ("古い方へ", "Older"),
    # records
    "records_title": ("レコード", "Records"),
    "search": ("検索", "Search"),
    "search_text": ("タイトル・識別子", "Title or identifier"),
    "project": ("プロジェクト（体系的番号）", "Project (grant number)"),
    "any": ("すべて", "any"),
    "title": ("タイトル", "Title"),
    "identifier": ("識別子", "Identifier"),
    "access_right": ("アクセス権", "Access right"),
    "updated": ("更新", "Updated"),
    "results": ("件", "results"),
    "no_records": ("該当するレコードはありません。", "No matching records."),
    "previous": ("前へ", "Previous"),
    "next": ("次へ", "Next"),
    "record_title": ("レコード", "Record"),
    "oai_identifier": ("OAI 識別子", "OAI identifier"),
    "source_identifier": ("ソースでの識別子", "Identifier at the source"),
    "source_datestamp": ("ソースの日付", "Source datestamp"),
    "raw_format": ("受信形式", "Format received"),
    "status_reason": ("理由", "Reason"),
    "duplicate_of": ("重複（提供されるレコード）", "Duplicate of"),
    "duplicates": ("重複レコード", "Duplicates"),
    "priority": ("優先度", "priority"),
    "disclosure": ("メタデータの公開区分", "Metadata disclosure"),
    "served_datestamp": ("提供日付", "Served datestamp"),
    "findings": ("検証結果", "Findings"),
    "no_findings": ("指摘はありません。", "No findings."),
    "severity": ("重大度", "Severity"),
    "layer": ("段階", "Layer"),
    "item": ("別表3 項目", "Annex-3 item"),
    "path": ("位置", "Path"),
    "history": ("公開履歴", "Publication history"),
    "at": ("日時", "When"),
    "raw_record": ("受信したレコード", "Raw record"),
    "verbatim": ("受信したままの内容", "exactly as received"),
    "canonical_record": ("正規化 JPCOAR 2.0", "Canonical JPCOAR 2.0"),
    "output_formats": ("出力形式", "Output formats"),
    "served_as_is": ("提供中の内容", "as served"),
    "preview_only": ("プレビュー（提供されていません）", "preview (not served)"),
    "remarks": ("非公開の値（備考など）", "Private values (remarks, …)"),
    "annex3_view": ("共通メタデータ項目", "Common metadata items"),
    "not_found": ("見つかりません", "Not found"),
    # quarantine
    "quarantine_title": ("隔離レコード（指摘ごと）", "Quarantined records by finding"),
    "rule": ("規則", "Rule"),
    "count": ("件数", "Count"),
    "examples": ("レコード", "Records"),
    "nothing_quarantined": ("隔離されたレコードはありません。", "Nothing is quarantined."),
    # projects
    "projects_title": ("プロジェクト", "Projects"),
    "counts_by_access": ("アクセス権別の件数", "Counts by access right"),
    "open": ("公開", "open"),
    "restricted": ("共有", "restricted"),
    "metadata_only": ("非公開・非共有", "metadata only"),
    "embargoed": ("公開猶予", "embargoed"),
    "unknown": ("不明", "unknown"),
    "total": ("合計", "Total"),
    "no_project": ("（プロジェクトなし）", "(no project)"),
    "funder": ("資金配分機関", "Funder"),
    "project_name": ("プロジェクト名", "Project name"),
    "download": ("ダウンロード", "Download"),
    "deadlines": ("登録期限", "Registration deadlines"),
    "end_date": ("終了日", "End date"),
    "deadline": ("期限", "Deadline"),
    "days_left": ("残り日数", "Days left"),
    "embargoes": ("公開猶予の期限", "Embargoes"),
    "available_date": ("公開予定日", "Available date"),
    "state_registered": ("登録済み", "registered"),
    "state_open": ("未登録（期限内）", "not yet registered"),
    "state_overdue": ("期限切れ", "overdue"),
    "state_due": ("まもなく", "due"),
    "state_no_date": ("公開予定日なし", "no date"),
    "state_period unknown": ("研究期間不明", "period unknown"),
    "no_deadlines": ("期限のあるプロジェクトはありません。", "No project deadlines."),
    "no_embargoes": ("期限の近い公開猶予はありません。", "No embargo ends soon or is overdue."),
    "no_counts": ("集計するレコードがありません。", "No records to count."),
    # the DMP report (gateway.admin.report_pages)
    "nav_dmp_report": ("DMP照合", "DMP check"),
    "dmp_report_title": ("DMPと登録状況の照合", "DMP against what is registered"),
    "as_of": ("基準日", "As of"),
    "show": ("表示", "Show"),
    "no_dmp": ("DMPが取り込まれたプロジェクトはありません。", "No project has a DMP imported."),
    "dmp_version": ("DMP版", "DMP version"),
    "dmp_declared": ("DMP記載", "Declared"),
    "dmp_section": ("区分", "Section"),
    "dmp_registered": ("登録済み", "registered"),
    "dmp_not_registered": ("未登録", "not registered"),
    "dmp_undeclared": ("DMP未記載", "not in the DMP"),
    "dmp_status_disagrees": ("登録状況の不一致", "status disagrees"),
    "dmp_status_column": ("DMPの登録状況", "DMP's registration status"),
    "dmp_dataset": ("管理対象データ名称", "Dataset"),
    "dmp_how": ("照合方法", "Matched by"),
    "how_data_number": ("データNo.", "data number"),
    "how_doi": ("DOI", "DOI"),
    "how_identifier": ("その他の識別子", "other identifier"),
    "how_title": ("名称", "title"),
    "data_number": ("データNo.", "Data number"),
    "record": ("レコード", "Record"),
    "access_rights": ("アクセス権", "Access right"),
    "days_overdue": ("超過日数", "Days overdue"),
    "yes": ("はい", "yes"),
    "no": ("いいえ", "no"),
    "due_for": ("登録するもの", "Due"),
    "due_fiscal_year": ("メタデータ（年度末）", "metadata (fiscal year)"),
    "due_end": ("メタデータ・件数（終了）", "metadata and counts (end)"),
    "reports_missing": ("集計機能（gateway.reports）が利用できません。", "The reports module is not available."),
    # AMED's sharing transitions (gateway.admin.transition_pages)
    "nav_transitions": ("公開移行", "Transitions"),
    "tr_transitions_title": ("制限共有から公開への移行", "Restricted sharing moving to open"),
    "tr_transitions_rule": (
        "制限共有のデータは、研究開発期間の終了後2年または研究開発成果の公表時（論文採択、特許出願公開等の日）の"
        "いずれか早い時点で公開に移行します。DMPは終了後2年と4年に見直します。",
        "Data under restricted sharing moves to open at the earlier of two years after the project's end and the "
        "publication of its results (a paper's acceptance, a patent application's publication); the DMP is "
        "reviewed at end + 2 and end + 4 years.",
    ),
    "tr_as_of": ("基準日", "As of"),
    "tr_within_days": ("対象日数", "Days ahead"),
    "tr_show": ("表示", "Show"),
    "tr_transitions_due": ("期限超過・期限間近の移行", "Transitions overdue or due"),
    "tr_transition_date": ("移行日", "Transition date"),
    "tr_data_number": ("データNo.", "Data No."),
    "tr_dataset": ("データ", "Dataset"),
    "tr_sharing_method": ("データシェアリング方法", "Sharing method"),
    "tr_basis": ("根拠", "Basis"),
    "tr_record_held": ("保持レコード（アクセス権）", "Record held (access right)"),
    "tr_not_registered": ("未登録", "not registered"),
    "tr_no_transitions": ("期限超過・期限間近の移行はありません。", "No transition is overdue or due."),
    "tr_dmp_reviews": ("DMPの見直し", "DMP reviews"),
    "tr_review_date": ("見直し日", "Review date"),
    "tr_restricted_datasets": ("制限共有のデータ数", "Datasets under restricted sharing"),
    "tr_dmp_date": ("DMP作成日", "DMP date"),
    "tr_end_plus_2": ("終了後2年", "2 years after the end"),
    "tr_end_plus_4": ("終了後4年", "4 years after the end"),
    "tr_no_reviews": ("制限共有のデータのある課題はありません。", "No project has data under restricted sharing."),
    "tr_state_overdue": ("期限超過", "overdue"),
    "tr_state_due": ("期限間近", "due"),
    "tr_state_upcoming": ("予定", "upcoming"),
    "tr_state_done": ("見直し済み", "reviewed"),
    "tr_publications": ("研究開発成果の公表", "Results publications"),
    "tr_publication_kind": ("種類", "Kind"),
    "tr_publication_date": ("公表日", "Date"),
    "tr_kind_paper": ("論文採択", "paper accepted"),
    "tr_kind_patent": ("特許出願公開", "patent application published"),
    "tr_note": ("メモ", "Note"),
    "tr_recorded_by": ("記録者", "Recorded by"),
    "tr_whole_project": ("課題全体", "the whole project"),
    "tr_not_in_dmp": ("現行のDMPにないデータ", "not in the current DMP"),
    "tr_no_publications": ("記録された公表はありません。", "No publication is recorded."),
    "tr_record_publication": ("公表を記録する", "Record a publication"),
    "tr_dataset_hint": ("データNo.または番号（空欄：課題全体）", "data No. or position (empty: the whole project)"),
    "tr_no_dmp": ("DMPが取り込まれていません（gateway dmp import）。", "No DMP is imported (gateway dmp import)."),
    "tr_publication_recorded": ("公表を記録しました。", "The publication is recorded."),
    "tr_publication_refused": ("記録できません", "Not recorded"),
    "tr_publication_removed": ("公表の記録を削除しました。", "The publication is removed."),
    "tr_catalogue": ("AMED DataCat（データ利活用カタログ）", "AMED DataCat (data catalogue)"),
    "tr_catalogue_note": (
        "カタログで公開されるDMPの項目のみ（研究開発代表者の住所・電話番号・メールアドレス、公表の可否が「可」でない"
        "データ関連人材は含みません）。",
        "Only the DMP items the catalogue publishes (never the PI's address, telephone or e-mail, nor data-related "
        "staff without 公表の可否 可).",
    ),
    # DMPs and their versions (gateway.admin.dmp_pages)
    "nav_dmp": ("DMP", "DMP"),
    "dmpv_title": ("DMP（版の履歴）", "DMPs and their versions"),
    "dmpv_history_title": ("DMPの版の履歴", "DMP history"),
    "dmpv_current_version": ("現行版", "Current version"),
    "dmpv_version": ("版", "Version"),
    "dmpv_current": ("現行", "current"),
    "dmpv_period": ("研究期間", "Project period"),
    "dmpv_datasets": ("データ数", "Datasets"),
    "dmpv_dmp_date": ("DMP作成日", "DMP date"),
    "dmpv_imported_at": ("取込日時", "Imported at"),
    "dmpv_file": ("ファイル", "File"),
    "dmpv_layout": ("様式", "Layout"),
    "dmpv_layout_table": ("表（別紙2など）", "table (別紙2 and the like)"),
    "dmpv_layout_form": ("AMED様式", "AMED's form"),
    "dmpv_layout_projects": ("研究期間の一覧", "project periods"),
    "dmpv_changes": ("変更内容", "What changed"),
    "dmpv_current_datasets": ("現行版のデータ", "Datasets of the current version"),
    "dmpv_metadata": ("メタデータの公開区分", "Metadata disclosure"),
    "dmpv_access": ("データのアクセス権", "Data access"),
    "dmpv_sharing": ("データシェアリング方法", "Data sharing method"),
    "dmpv_planned_date": ("公開予定日", "Planned publication date"),
    "dmpv_first_version": ("初出の版", "First in version"),
    "dmpv_no_datasets": ("この版はデータを記載していません。", "This version declares no datasets."),
    "dmpv_back": ("DMPの一覧へ", "All DMPs"),
    "dmpv_none": (
        "DMPはまだ取り込まれていません（gateway dmp import FILE）。", "No DMP imported yet (gateway dmp import FILE)."
    ),
    # errors
    "forbidden": ("この操作には管理者権限が必要です。", "This needs the manager role."),
    "bad_request": ("入力が正しくありません。", "The request is not valid."),
}


def language() -> str:
    """The language of the current request (chosen in a before_request hook)."""
    lang = g.get("admin_lang")
    if lang in LANGUAGES:
        return lang
    return _pick()


def _asked() -> str | None:
    # A hostile query string that is not UTF-8 must not turn into a server error here; it simply asks for nothing.
    try:
        return request.args.get("lang")
    except UnicodeDecodeError:
        return None


def _pick() -> str:
    asked = _asked()
    if asked in LANGUAGES:
        return asked
    stored = request.cookies.get(COOKIE)
    if stored in LANGUAGES:
        return stored
    return request.accept_languages.best_match(LANGUAGES, default=DEFAULT_LANGUAGE) or DEFAULT_LANGUAGE


def translate(key: str, lang: str | None = None) -> str:
    pair = LABELS.get(key)
    if pair is None:
        return key  # an unknown key shows itself, which a test or a reader notices
    return pair[0] if (lang or language()) == "ja" else pair[1]


def _before() -> None:
    if request.path.startswith("/admin"):
        g.admin_lang = _pick()


def _after(response: Response) -> Response:
    if not request.path.startswith("/admin"):
        return response
    asked = _asked()
    if asked in LANGUAGES and request.cookies.get(COOKIE) != asked:
        response.set_cookie(COOKIE, asked, max_age=COOKIE_MAX_AGE, httponly=True, samesite="Lax", path="/admin")
    return response


def _context() -> dict[str, Any]:
    lang = language() if request else DEFAULT_LANGUAGE
    return {"t": lambda key: translate(key, lang), "lang": lang, "languages": LANGUAGES}


def install(app: Flask) -> None:
    """Hook the language choice into every request of the app (the login page is not in this blueprint)."""
    app.before_request(_before)
    app.after_request(_after)
    app.context_processor(_context)
