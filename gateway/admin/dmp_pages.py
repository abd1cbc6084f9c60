"""The dashboard's DMP pages: the projects with a DMP and their current version (/admin/dmp), and one project's
history of versions with what each changed and the datasets its current version declares (/admin/dmp/<project>).

A blueprint of its own (mounted under /admin by gateway.app) so that gateway.admin.pages stays one screen of routes.
It reads what `gateway dmp list|history` and /api/dmp give (gateway.admin.operations.dmp, gateway.dmp.versions), so
the three surfaces show the same versions; nothing a DMP keeps private (the PI's address, telephone, e-mail) is read.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, render_template

from gateway.admin import i18n
from gateway.admin.auth import login_required
from gateway.admin.operations import dmp as dmp_ops
from gateway.dmp import changes, versions
from gateway.services import services

blueprint = Blueprint("dmp_pages", __name__)


@blueprint.get("/dmp")
@login_required()
def dmp_list() -> str:
    with services().sessions() as session:
        found = dmp_ops.dmp_projects(session)
    return render_template("admin/dmp.html", projects=found["projects"])


def _dataset_row(dataset: Any, lang: str) -> dict[str, Any]:
    return {
        "number": dataset.number,
        "name": dataset.name,
        "metadata": changes.value_label("metadata_disclosure", dataset.metadata_disclosure, lang)
        if dataset.metadata_disclosure else "",
        "access": changes.value_label("access_right", dataset.access_right, lang) if dataset.access_right else "",
        "sharing": changes.value_label("sharing", dataset.sharing, lang) if dataset.sharing else "",
        "planned_date": dataset.planned_date.isoformat() if dataset.planned_date else "",
        "first_version": dataset.first_version,
    }


@blueprint.get("/dmp/<project>")
@login_required()
def dmp_history(project: str) -> Any:
    lang = i18n.language()
    with services().sessions() as session:
        found = dmp_ops.dmp_history(session, project)
        if found is None:
            return Response(render_template("admin/not_found.html"), status=404)
        version = versions.current(session, project)
        datasets = [_dataset_row(d, lang) for d in versions.current_datasets(session, project)]
        head = {
            "jgn": project,
            "name": (version.name_ja if lang == "ja" else version.name_en) or version.name_ja or version.name_en,
            "start": version.start_date.isoformat(),
            "end": version.end_date.isoformat(),
            "version": version.version,
            "program": version.program,
        } if version is not None else {"jgn": project}
    rows = list(reversed(found["versions"]))  # newest first, as a history page is read
    return render_template("admin/dmp_history.html", project=head, versions=rows, datasets=datasets)
