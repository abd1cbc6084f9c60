"""Builders of test records (fictitious): a JPCOAR 2.0 dataset carrying every Annex-3 item, and variants of it."""

from __future__ import annotations

from xml.sax.saxutils import escape

JPCOAR2 = "https://github.com/JPCOAR/schema/blob/master/2.0/"
ACCESS_URIS = {
    "open": ("http://purl.org/coar/access_right/c_abf2", "open access"),
    "restricted": ("http://purl.org/coar/access_right/c_16ec", "restricted access"),
    "metadata-only": ("http://purl.org/coar/access_right/c_14cb", "metadata only access"),
    "embargoed": ("http://purl.org/coar/access_right/c_f1cf", "embargoed access"),
}


def dataset(
    title: str = "テストデータセット",
    *,
    title_en: str = "Test dataset",
    access: str = "open",
    available: str | None = None,
    jgn: str = "JPMJPF2301",
    funder_code: str = "1020",
    data_no: str = "D-0001",
    doi: str = "10.99999/test.0001",
    omit: tuple[str, ...] = (),
    namespace: str = JPCOAR2,
    type_uri: str = "http://purl.org/coar/resource_type/c_ddb1",
    type_label: str = "dataset",
) -> str:
    """A JPCOAR 2.0 dataset record as text (no XML declaration), valid unless `omit` removes a required part."""
    uri, label = ACCESS_URIS[access]
    parts = [
        f'<jpcoar:jpcoar xmlns:jpcoar="{namespace}" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:dcterms="http://purl.org/dc/terms/" xmlns:datacite="https://schema.datacite.org/meta/kernel-4/" '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">',
        f'<dc:title xml:lang="ja">{escape(title)}</dc:title>',
        f'<dc:title xml:lang="en">{escape(title_en)}</dc:title>',
        "<jpcoar:creator>"
        '<jpcoar:nameIdentifier nameIdentifierScheme="e-Rad_Researcher">10012345</jpcoar:nameIdentifier>'
        '<jpcoar:creatorName xml:lang="ja">山田, 花子</jpcoar:creatorName>'
        '<jpcoar:creatorName xml:lang="en">Yamada, Hanako</jpcoar:creatorName></jpcoar:creator>',
    ]
    if "hosting" not in omit:
        parts.append(
            '<jpcoar:contributor contributorType="HostingInstitution">'
            '<jpcoar:nameIdentifier nameIdentifierScheme="ROR">https://ror.org/057zh3y96</jpcoar:nameIdentifier>'
            '<jpcoar:contributorName xml:lang="ja" nameType="Organizational">例示大学</jpcoar:contributorName>'
            '<jpcoar:contributorName xml:lang="en" nameType="Organizational">'
            "Example University</jpcoar:contributorName>"
            "</jpcoar:contributor>"
        )
    parts.append(
        '<jpcoar:contributor contributorType="DataManager">'
        '<jpcoar:contributorName xml:lang="ja" nameType="Organizational">データ管理室</jpcoar:contributorName>'
        '<jpcoar:contributorName xml:lang="en" nameType="Organizational">Data Office</jpcoar:contributorName>'
        "</jpcoar:contributor>"
        '<jpcoar:contributor contributorType="ContactPerson">'
        '<jpcoar:contributorName xml:lang="en" nameType="Organizational">rdm@example.ac.jp</jpcoar:contributorName>'
        "</jpcoar:contributor>"
    )
    parts.append(f'<dcterms:accessRights rdf:resource="{uri}">{label}</dcterms:accessRights>')
    parts.append('<dc:rights xml:lang="ja">出典を明記して利用できます。</dc:rights>')
    parts.append(
        '<jpcoar:subject xml:lang="ja" subjectScheme="e-Rad_field">ライフサイエンス</jpcoar:subject>'
        '<jpcoar:subject xml:lang="en" subjectScheme="e-Rad_field">Life Science</jpcoar:subject>'
    )
    if "description" not in omit:
        parts.append(
            '<datacite:description xml:lang="ja" descriptionType="Abstract">説明文です。</datacite:description>'
            '<datacite:description xml:lang="en" descriptionType="Abstract">A description.</datacite:description>'
        )
    parts.append('<datacite:date dateType="Issued">2025-04-01</datacite:date>')
    if available:
        parts.append(f'<datacite:date dateType="Available">{available}</datacite:date>')
    if "type" not in omit:
        parts.append(f'<dc:type rdf:resource="{type_uri}">{type_label}</dc:type>')
    parts.append(f'<jpcoar:identifier identifierType="DOI">https://doi.org/{doi}</jpcoar:identifier>')
    parts.append(
        '<jpcoar:relation relationType="isIdenticalTo">'
        f'<jpcoar:relatedIdentifier identifierType="Local">{escape(data_no)}</jpcoar:relatedIdentifier>'
        "</jpcoar:relation>"
    )
    if "funding" not in omit:
        parts.append(
            "<jpcoar:fundingReference>"
            f'<jpcoar:funderIdentifier funderIdentifierType="e-Rad_funder">{funder_code}</jpcoar:funderIdentifier>'
            '<jpcoar:funderName xml:lang="ja">科学技術振興機構</jpcoar:funderName>'
            '<jpcoar:funderName xml:lang="en">Japan Science and Technology Agency</jpcoar:funderName>'
            '<jpcoar:fundingStreamIdentifier fundingStreamIdentifierType="JGN_fundingStream">MJPF'
            "</jpcoar:fundingStreamIdentifier>"
            '<jpcoar:fundingStream xml:lang="ja">未来社会創造事業</jpcoar:fundingStream>'
            '<jpcoar:fundingStream xml:lang="en">Mirai Program</jpcoar:fundingStream>'
            f'<jpcoar:awardNumber awardNumberType="JGN">{jgn}</jpcoar:awardNumber>'
            '<jpcoar:awardTitle xml:lang="ja">テスト研究課題</jpcoar:awardTitle>'
            '<jpcoar:awardTitle xml:lang="en">Test project</jpcoar:awardTitle>'
            "</jpcoar:fundingReference>"
        )
    parts.append("<jpcoar:file><jpcoar:extent>1-10GB</jpcoar:extent></jpcoar:file>")
    parts.append("</jpcoar:jpcoar>")
    return "".join(parts)
