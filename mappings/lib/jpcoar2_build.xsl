<?xml version="1.0" encoding="UTF-8"?>
<!--
  Builds the canonical record: a JPCOAR 2.0 document that is valid against the official 2.0 schema.

  Every "in" stylesheet first turns its source into loosely JPCOAR-shaped elements (any order, any jpcoar namespace
  already renamed to the 2.0 one) and then hands them to the "jp2-root" mode defined here.  This file is the single
  place that knows the 2.0 content model (jpcoar_scm.xsd and the dc/dcterms/datacite/oaire/dcndl schemas next to it):

    - children are written in the schema's sequence order, whatever order the source used;
    - elements the schema allows once keep only their first occurrence;
    - controlled vocabularies are checked: a wrong value of an optional attribute drops the attribute, a wrong value of
      a required one drops the element, except where the schema offers a catch-all ("Other") or the vocabularies in
      ../vocab/ can repair it (dc:type, dcterms:accessRights, oaire:version, dc:language);
    - typed values (dates, positive integers, coordinates, country codes, xml:lang) that would not validate are
      repaired where the repair is unambiguous and dropped otherwise;
    - elements with no text are dropped (WEKO writes many empty ones);
    - required elements: dc:type falls back to "other"; jpcoar:identifier falls back to the best identifier found
      elsewhere in the record.  A record with no title stays without one: inventing a title would hide the problem
      from the validator, which quarantines the record with a reason.
  Elements the 2.0 schema does not know (rioxxterms:apc, stray wrappers) are not carried over.

  This runs for every harvested record, so it is written to do per record only what the record needs:
    - the vocabularies are global variables read with document(); the gateway parses each file once (see
      gateway/crosswalk.py), and since libxslt builds xsl:key indexes only for documents it loaded itself, values are
      looked up in them with predicates, the common case (an exact label) first, the repairs only when it fails;
    - elements are written as literal result elements, one template each, not with xsl:element name="{...}", whose
      computed name is compiled again each time it runs;
    - regexp:test (a call out to Python in lxml) decides only what cheaper comparisons cannot (see "lang").
-->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:exsl="http://exslt.org/common"
    xmlns:regexp="http://exslt.org/regular-expressions"
    xmlns:jpcoar="https://github.com/JPCOAR/schema/blob/master/2.0/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:dcterms="http://purl.org/dc/terms/"
    xmlns:datacite="https://schema.datacite.org/meta/kernel-4/"
    xmlns:oaire="http://namespace.openaire.eu/schema/oaire/"
    xmlns:dcndl="http://ndl.go.jp/dcndl/terms/"
    xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
    exclude-result-prefixes="exsl regexp">

  <xsl:variable name="UC" select="'ABCDEFGHIJKLMNOPQRSTUVWXYZ'"/>
  <xsl:variable name="LC" select="'abcdefghijklmnopqrstuvwxyz'"/>
  <xsl:variable name="TYPES" select="document('../vocab/coar_resource_types.xml')/vocab"/>
  <xsl:variable name="RIGHTS" select="document('../vocab/coar_access_rights.xml')/vocab"/>
  <xsl:variable name="VERSIONS" select="document('../vocab/coar_versions.xml')/vocab"/>
  <xsl:variable name="LANGS" select="document('../vocab/languages.xml')/vocab"/>

  <!-- Pattern of datacite:date in the 2.0 datacite.xsd (W3C-DTF, optionally an RKMS-ISO8601 range). -->
  <xsl:variable name="DTF" select="'\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2})?(Z|[+-]\d{2}:\d{2}))?)?)?'"/>
  <xsl:variable name="DATE_RE" select="concat('^(', $DTF, '|', $DTF, '/(', $DTF, ')?|/', $DTF, ')$')"/>

  <!-- Vocabularies of the 2.0 schema, space-delimited so that contains(concat(' ', $V, ' '), ...) tests membership. -->
  <xsl:variable name="NAME_ID_SCHEMES" select="' e-Rad_Researcher NRID ORCID ISNI VIAF AID kakenhi Ringgold GRID ROR '"/>
  <xsl:variable name="SUBJECT_SCHEMES" select="' BSH DDC e-Rad_field JEL LCC LCSH MeSH NDC NDLC NDLSH SciVal UDC Other '"/>
  <xsl:variable name="CONTRIBUTOR_TYPES" select="' ContactPerson DataCollector DataCurator DataManager Distributor Editor HostingInstitution Producer ProjectLeader ProjectManager ProjectMember RelatedPerson Researcher ResearchGroup Sponsor Supervisor WorkPackageLeader Other '"/>
  <xsl:variable name="RELATION_TYPES" select="' inSeries isCitedBy Cites isVersionOf hasVersion isPartOf hasPart isReferencedBy references isFormatOf hasFormat isReplacedBy replaces isRequiredBy requires isSupplementTo isSupplementedBy isIdenticalTo isDerivedFrom isSourceOf '"/>
  <xsl:variable name="RELATED_ID_TYPES" select="' ARK arXiv CRID DOI HDL ICHUSHI ISBN J-GLOBAL Local PISSN EISSN ISSN NAID NCID PMID PURL SCOPUS URI WOS '"/>
  <xsl:variable name="DATE_TYPES" select="' Accepted Available Collected Copyrighted Created Issued Submitted Updated Valid '"/>
  <xsl:variable name="DESCRIPTION_TYPES" select="' Abstract Methods TableOfContents TechnicalInfo Other '"/>
  <xsl:variable name="FUNDER_ID_TYPES" select="' Crossref_Funder e-Rad_funder GRID ISNI ROR Other '"/>
  <xsl:variable name="STREAM_ID_TYPES" select="' Crossref_Funder JGN_fundingStream '"/>
  <xsl:variable name="SOURCE_ID_TYPES" select="' PISSN EISSN ISSN NCID '"/>
  <xsl:variable name="HOLDING_ID_SCHEMES" select="' kakenhi ISNI Ringgold GRID ROR FANO ISIL MARC OCLC '"/>
  <xsl:variable name="REGISTRATION_TYPES" select="' JaLC Crossref DataCite PMID '"/>
  <xsl:variable name="OBJECT_TYPES" select="' abstract dataset fulltext iiif software summary thumbnail other '"/>

  <!-- ============================================================ root, in schema order -->
  <xsl:template match="*" mode="jp2-root">
    <jpcoar:jpcoar>
      <xsl:apply-templates select="dc:title" mode="jp2"/>
      <xsl:apply-templates select="dcterms:alternative" mode="jp2"/>
      <xsl:apply-templates select="jpcoar:creator" mode="jp2"/>
      <xsl:apply-templates select="jpcoar:contributor" mode="jp2"/>
      <xsl:call-template name="access-rights"/>
      <xsl:apply-templates select="dc:rights" mode="jp2"/>
      <xsl:apply-templates select="jpcoar:rightsHolder" mode="jp2"/>
      <xsl:apply-templates select="jpcoar:subject" mode="jp2"/>
      <xsl:apply-templates select="datacite:description" mode="jp2"/>
      <xsl:apply-templates select="dc:publisher" mode="jp2"/>
      <xsl:apply-templates select="jpcoar:publisher" mode="jp2"/>
      <xsl:apply-templates select="datacite:date" mode="jp2"/>
      <!-- a datacite:date whose dateType is missing or unknown is still a date: keep it as a free-text date -->
      <xsl:apply-templates select="datacite:date" mode="jp2-untyped-date"/>
      <xsl:apply-templates select="dcterms:date" mode="jp2"/>
      <xsl:apply-templates select="dc:language" mode="jp2"/>
      <xsl:call-template name="resource-type"/>
      <xsl:apply-templates select="datacite:version[normalize-space()][1]" mode="jp2"/>
      <xsl:call-template name="version-type"/>
      <xsl:call-template name="identifiers"/>
      <xsl:apply-templates select="jpcoar:identifierRegistration[contains($REGISTRATION_TYPES, concat(' ', @identifierType, ' '))][normalize-space()][1]" mode="jp2"/>
      <xsl:apply-templates select="jpcoar:relation" mode="jp2"/>
      <xsl:apply-templates select="dcterms:temporal" mode="jp2"/>
      <xsl:apply-templates select="datacite:geoLocation" mode="jp2"/>
      <xsl:apply-templates select="jpcoar:fundingReference" mode="jp2"/>
      <xsl:apply-templates select="jpcoar:sourceIdentifier" mode="jp2"/>
      <xsl:apply-templates select="dcndl:edition" mode="jp2"/>
      <xsl:apply-templates select="dcndl:volumeTitle" mode="jp2"/>
      <xsl:apply-templates select="dcndl:originalLanguage" mode="jp2"/>
      <xsl:apply-templates select="dcterms:extent" mode="jp2"/>
      <xsl:apply-templates select="jpcoar:format | dcterms:format" mode="jp2"/>
      <xsl:apply-templates select="jpcoar:holdingAgent[1]" mode="jp2"/>
      <xsl:apply-templates select="jpcoar:datasetSeries[normalize-space() = 'True' or normalize-space() = 'False'][1]" mode="jp2"/>
      <xsl:apply-templates select="jpcoar:sourceTitle" mode="jp2"/>
      <xsl:apply-templates select="jpcoar:volume[normalize-space()][1]" mode="jp2"/>
      <xsl:apply-templates select="jpcoar:issue[normalize-space()][1]" mode="jp2"/>
      <xsl:apply-templates select="jpcoar:numPages[regexp:test(normalize-space(.), '^0*[1-9][0-9]*$')][1]" mode="jp2"/>
      <xsl:apply-templates select="jpcoar:pageStart[regexp:test(normalize-space(.), '^0*[1-9][0-9]*$')][1]" mode="jp2"/>
      <xsl:apply-templates select="jpcoar:pageEnd[regexp:test(normalize-space(.), '^0*[1-9][0-9]*$')][1]" mode="jp2"/>
      <xsl:apply-templates select="dcndl:dissertationNumber[normalize-space()][1]" mode="jp2"/>
      <xsl:apply-templates select="dcndl:degreeName" mode="jp2"/>
      <xsl:apply-templates select="dcndl:dateGranted[regexp:test(normalize-space(.), '^\d{4}(-\d{2}(-\d{2})?)?(Z|[+-]\d{2}:\d{2})?$')][1]" mode="jp2"/>
      <xsl:apply-templates select="jpcoar:degreeGrantor" mode="jp2"/>
      <xsl:apply-templates select="jpcoar:conference" mode="jp2"/>
      <xsl:apply-templates select="jpcoar:file" mode="jp2"/>
      <xsl:apply-templates select="jpcoar:catalog[1]" mode="jp2"/>
    </jpcoar:jpcoar>
  </xsl:template>

  <!-- Anything not handled below is not part of JPCOAR 2.0 and is left out. -->
  <xsl:template match="*" mode="jp2"/>
  <xsl:template match="*" mode="jp2-untyped-date"/>

  <!-- ============================================================ helpers -->
  <xsl:template name="lang">
    <xsl:param name="value" select="translate(normalize-space(@xml:lang), '_', '-')"/>
    <!-- kept when well-formed: ^[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*$ -->
    <xsl:choose>
      <xsl:when test="$value = ''"/>
      <!-- the tags nearly every record uses, written as they are: the attribute is copied -->
      <xsl:when test="($value = 'ja' or $value = 'en' or $value = 'ja-Kana' or $value = 'ja-Latn') and $value = @xml:lang">
        <xsl:copy-of select="@xml:lang"/>
      </xsl:when>
      <xsl:when test="$value = 'ja' or $value = 'en' or $value = 'ja-Kana' or $value = 'ja-Latn'
                      or regexp:test($value, '^[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*$')">
        <xsl:attribute name="xml:lang"><xsl:value-of select="$value"/></xsl:attribute>
      </xsl:when>
    </xsl:choose>
  </xsl:template>

  <!-- The xml:lang of the context element, written as "lang" writes it.  The tags nearly every record uses, already as
       they must be, are copied at once, without computing the normalised value first (which "lang", having it as a
       parameter, always does). -->
  <xsl:template name="element-lang">
    <xsl:choose>
      <xsl:when test="@xml:lang = 'ja' or @xml:lang = 'en' or @xml:lang = 'ja-Kana' or @xml:lang = 'ja-Latn'">
        <xsl:copy-of select="@xml:lang"/>
      </xsl:when>
      <xsl:when test="@xml:lang"><xsl:call-template name="lang"/></xsl:when>
    </xsl:choose>
  </xsl:template>

  <!-- An optional attribute is copied, trimmed, when it is not empty:
         <xsl:if test="normalize-space(@a)"><xsl:attribute name="a"><xsl:value-of select="normalize-space(@a)"/></xsl:attribute></xsl:if>
       written out where it is needed rather than in a named template, which would have to compute the attribute's
       name (xsl:attribute name="{...}"), compiled again on every call. -->

  <!-- Repairs a date to the 2.0 datacite pattern; writes nothing when it cannot. -->
  <xsl:template name="dtf-date">
    <xsl:param name="value" select="normalize-space(.)"/>
    <!-- YYYY-MM-DD, YYYY-MM and YYYY match $DATE_RE; every digit becomes 0 in the shape -->
    <xsl:variable name="shape" select="translate($value, '123456789', '000000000')"/>
    <xsl:choose>
      <xsl:when test="$shape = '0000-00-00' or $shape = '0000-00' or $shape = '0000' or regexp:test($value, $DATE_RE)"><xsl:value-of select="$value"/></xsl:when>
      <!-- a date-time without a zone (common in WEKO and DSpace) or with seconds fractions: keep the day -->
      <xsl:when test="regexp:test($value, '^\d{4}-\d{2}-\d{2}[T ]')"><xsl:value-of select="substring($value, 1, 10)"/></xsl:when>
      <xsl:when test="regexp:test($value, '^\d{4}/\d{2}/\d{2}$')"><xsl:value-of select="translate($value, '/', '-')"/></xsl:when>
      <xsl:when test="regexp:test($value, '^\d{4}/\d{2}$')"><xsl:value-of select="translate($value, '/', '-')"/></xsl:when>
      <xsl:when test="regexp:test($value, '^\d{4}-\d{2}-\d{2}(Z|[+-]\d{2}:\d{2})$')"><xsl:value-of select="substring($value, 1, 10)"/></xsl:when>
    </xsl:choose>
  </xsl:template>

  <!-- DOI / HDL / URI, by the form of the value -->
  <xsl:template name="identifier-type">
    <xsl:param name="value" select="normalize-space(.)"/>
    <xsl:variable name="v" select="translate($value, $UC, $LC)"/>
    <xsl:choose>
      <xsl:when test="starts-with($v, 'https://doi.org/') or starts-with($v, 'http://doi.org/') or starts-with($v, 'http://dx.doi.org/') or starts-with($v, 'https://dx.doi.org/') or starts-with($v, 'doi:') or starts-with($v, 'info:doi/') or (starts-with($v, '10.') and regexp:test($v, '^10\.\d{4,9}/'))">DOI</xsl:when>
      <xsl:when test="starts-with($v, 'http://hdl.handle.net/') or starts-with($v, 'https://hdl.handle.net/') or starts-with($v, 'hdl:') or starts-with($v, 'info:hdl/')">HDL</xsl:when>
      <xsl:otherwise>URI</xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <!-- ============================================================ dc:type -->
  <xsl:template name="resource-type">
    <!-- several dc:type (oai_dc often has "text" next to the real type): the first that names a specific type wins.
         One dc:type is the one whatever it says, so it is not looked up for that. -->
    <xsl:variable name="several" select="boolean(dc:type[2])"/>
    <!-- "names a specific type": a label, alias or URI of a type other than "other", or a 1.0 term that did not become
         "other".  A value that is in no type at all (the usual case) is told by one comparison with the vocabulary;
         only a match is checked again against the types other than "other". -->
    <xsl:variable name="known" select="dc:type[$several][
        (normalize-space(.) != 'other' and $TYPES/type/@label = normalize-space(.))
        or ($TYPES/type/alias = translate(normalize-space(.), $UC, $LC)
            and $TYPES/type[@label != 'other']/alias = translate(normalize-space(.), $UC, $LC))
        or $TYPES/legacy[@current != 'other']/@label = translate(normalize-space(.), $UC, $LC)
        or (normalize-space(@rdf:resource) != '' and $TYPES/type/@uri = normalize-space(@rdf:resource)
            and $TYPES/type[@label != 'other']/@uri = normalize-space(@rdf:resource))]"/>
    <xsl:variable name="chosen" select="($known | dc:type[not($known)])[1]"/>
    <xsl:variable name="text" select="normalize-space($chosen)"/>
    <xsl:variable name="res" select="normalize-space($chosen/@rdf:resource)"/>
    <xsl:variable name="by-label" select="$TYPES/type[@label = $text][1]"/>
    <dc:type>
      <xsl:choose>
        <xsl:when test="$by-label">
          <xsl:attribute name="rdf:resource">
            <xsl:choose>
              <xsl:when test="$res != ''"><xsl:value-of select="$res"/></xsl:when>
              <xsl:otherwise><xsl:value-of select="$by-label/@uri"/></xsl:otherwise>
            </xsl:choose>
          </xsl:attribute>
          <xsl:value-of select="$by-label/@label"/>
        </xsl:when>
        <!-- not a label (looked up only now: most records give one) -->
        <xsl:otherwise>
          <xsl:call-template name="resource-type-repaired">
            <xsl:with-param name="lc" select="translate($text, $UC, $LC)"/>
            <xsl:with-param name="res" select="$res"/>
          </xsl:call-template>
        </xsl:otherwise>
      </xsl:choose>
    </dc:type>
  </xsl:template>

  <!-- the type of a dc:type whose text is not a label: a 1.0 term, an alias, the URI, else "other" (in that order) -->
  <xsl:template name="resource-type-repaired">
    <xsl:param name="lc"/>
    <xsl:param name="res"/>
    <!-- the 2.0 term a 1.0 term became (looked up once, not once per term of the vocabulary) -->
    <xsl:variable name="current" select="$TYPES/legacy[@label = $lc]/@current"/>
    <xsl:variable name="by-legacy" select="$TYPES/type[@label = $current][1]"/>
    <xsl:variable name="by-alias" select="$TYPES/type[@label = $lc or alias = $lc][1]"/>
    <xsl:variable name="by-uri" select="$TYPES/type[$res != '' and @uri = $res][1]"/>
    <xsl:variable name="other" select="$TYPES/type[@label = 'other']"/>
    <xsl:choose>
      <xsl:when test="$by-legacy">
        <xsl:attribute name="rdf:resource"><xsl:value-of select="$by-legacy/@uri"/></xsl:attribute>
        <xsl:value-of select="$by-legacy/@label"/>
      </xsl:when>
      <xsl:when test="$by-alias">
        <xsl:attribute name="rdf:resource"><xsl:value-of select="$by-alias/@uri"/></xsl:attribute>
        <xsl:value-of select="$by-alias/@label"/>
      </xsl:when>
      <xsl:when test="$by-uri">
        <xsl:attribute name="rdf:resource"><xsl:value-of select="$by-uri/@uri"/></xsl:attribute>
        <xsl:value-of select="$by-uri/@label"/>
      </xsl:when>
      <xsl:otherwise>
        <xsl:attribute name="rdf:resource"><xsl:value-of select="$other/@uri"/></xsl:attribute>
        <xsl:value-of select="$other/@label"/>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <!-- ============================================================ dcterms:accessRights -->
  <xsl:template name="access-rights">
    <xsl:variable name="candidates" select="dcterms:accessRights[
        $RIGHTS/right/@label = normalize-space(.) or $RIGHTS/right/alias = translate(normalize-space(.), $UC, $LC)
        or $RIGHTS/right/@uri = normalize-space(@rdf:resource) or $RIGHTS/right/@uri = normalize-space(.)]"/>
    <xsl:variable name="chosen" select="$candidates[1]"/>
    <xsl:if test="$chosen">
      <xsl:variable name="text" select="normalize-space($chosen)"/>
      <xsl:variable name="res" select="normalize-space($chosen/@rdf:resource)"/>
      <!-- the right whose label the text is, else the one it is an alias or the URI of, else the one of rdf:resource -->
      <xsl:variable name="by-label" select="$RIGHTS/right[@label = $text][1]"/>
      <xsl:variable name="right" select="$by-label | $RIGHTS/right[not($by-label)][alias = translate($text, $UC, $LC) or @uri = $text][1]
          | $RIGHTS/right[not($by-label)][not($RIGHTS/right[alias = translate($text, $UC, $LC) or @uri = $text])][@uri = $res][1]"/>
      <dcterms:accessRights>
        <xsl:attribute name="rdf:resource">
          <xsl:choose>
            <xsl:when test="$res != '' and $right/@label = $text"><xsl:value-of select="$res"/></xsl:when>
            <xsl:otherwise><xsl:value-of select="$right/@uri"/></xsl:otherwise>
          </xsl:choose>
        </xsl:attribute>
        <xsl:value-of select="$right/@label"/>
      </dcterms:accessRights>
    </xsl:if>
  </xsl:template>

  <!-- ============================================================ oaire:version -->
  <xsl:template name="version-type">
    <xsl:variable name="chosen" select="oaire:version[
        $VERSIONS/version/@label = normalize-space(.) or $VERSIONS/version/alias = translate(normalize-space(.), $UC, $LC)
        or $VERSIONS/version/@uri = normalize-space(@rdf:resource)][1]"/>
    <xsl:if test="$chosen">
      <xsl:variable name="text" select="normalize-space($chosen)"/>
      <xsl:variable name="v" select="($VERSIONS/version[@label = $text] | $VERSIONS/version[not($VERSIONS/version[@label = $text])][alias = translate($text, $UC, $LC) or @uri = normalize-space($chosen/@rdf:resource)])[1]"/>
      <oaire:version rdf:resource="{$v/@uri}"><xsl:value-of select="$v/@label"/></oaire:version>
    </xsl:if>
  </xsl:template>

  <!-- ============================================================ jpcoar:identifier (required, 1..n) -->
  <xsl:template name="identifiers">
    <xsl:variable name="ids" select="jpcoar:identifier[normalize-space()]"/>
    <xsl:choose>
      <xsl:when test="$ids">
        <xsl:apply-templates select="$ids" mode="jp2"/>
      </xsl:when>
      <!-- none: the best available stand-in, in order of how well it names this very record -->
      <xsl:otherwise>
        <xsl:variable name="fallback" select="(
            jpcoar:relation[@relationType = 'isIdenticalTo']/jpcoar:relatedIdentifier[@identifierType = 'DOI' or @identifierType = 'HDL' or @identifierType = 'URI'][normalize-space()]
            | jpcoar:file/jpcoar:URI[normalize-space()]
            | jpcoar:identifierRegistration[normalize-space()])[1]"/>
        <xsl:if test="$fallback">
          <xsl:variable name="value" select="normalize-space($fallback)"/>
          <jpcoar:identifier>
            <xsl:attribute name="identifierType">
              <xsl:call-template name="identifier-type"><xsl:with-param name="value" select="$value"/></xsl:call-template>
            </xsl:attribute>
            <xsl:choose>
              <xsl:when test="local-name($fallback) = 'identifierRegistration' and starts-with($value, '10.')">
                <xsl:value-of select="concat('https://doi.org/', $value)"/>
              </xsl:when>
              <xsl:otherwise><xsl:value-of select="$value"/></xsl:otherwise>
            </xsl:choose>
          </jpcoar:identifier>
        </xsl:if>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:template match="jpcoar:identifier" mode="jp2">
    <xsl:if test="normalize-space()">
      <jpcoar:identifier>
        <xsl:attribute name="identifierType">
          <xsl:choose>
            <xsl:when test="@identifierType = 'DOI' or @identifierType = 'HDL' or @identifierType = 'URI'">
              <xsl:value-of select="@identifierType"/>
            </xsl:when>
            <xsl:otherwise><xsl:call-template name="identifier-type"/></xsl:otherwise>
          </xsl:choose>
        </xsl:attribute>
        <xsl:value-of select="normalize-space(.)"/>
      </jpcoar:identifier>
    </xsl:if>
  </xsl:template>

  <!-- ============================================================ simple string elements
       Each is written when it has text.  One template per element, the element written literally: xsl:element with a
       computed name (name="{local-name()}") has its name compiled again every time it runs, which costs more than
       everything else an element needs. -->

  <!-- strings that may carry xml:lang (kept when well-formed, see "lang") -->
  <xsl:template match="dc:title" mode="jp2"><xsl:if test="normalize-space(.)"><dc:title><xsl:call-template name="element-lang"/><xsl:value-of select="."/></dc:title></xsl:if></xsl:template>
  <xsl:template match="dcterms:alternative" mode="jp2"><xsl:if test="normalize-space(.)"><dcterms:alternative><xsl:call-template name="element-lang"/><xsl:value-of select="."/></dcterms:alternative></xsl:if></xsl:template>
  <xsl:template match="dc:publisher" mode="jp2"><xsl:if test="normalize-space(.)"><dc:publisher><xsl:call-template name="element-lang"/><xsl:value-of select="."/></dc:publisher></xsl:if></xsl:template>
  <xsl:template match="dcterms:date" mode="jp2"><xsl:if test="normalize-space(.)"><dcterms:date><xsl:call-template name="element-lang"/><xsl:value-of select="."/></dcterms:date></xsl:if></xsl:template>
  <xsl:template match="dcterms:temporal" mode="jp2"><xsl:if test="normalize-space(.)"><dcterms:temporal><xsl:call-template name="element-lang"/><xsl:value-of select="."/></dcterms:temporal></xsl:if></xsl:template>
  <xsl:template match="dcndl:edition" mode="jp2"><xsl:if test="normalize-space(.)"><dcndl:edition><xsl:call-template name="element-lang"/><xsl:value-of select="."/></dcndl:edition></xsl:if></xsl:template>
  <xsl:template match="dcndl:volumeTitle" mode="jp2"><xsl:if test="normalize-space(.)"><dcndl:volumeTitle><xsl:call-template name="element-lang"/><xsl:value-of select="."/></dcndl:volumeTitle></xsl:if></xsl:template>
  <xsl:template match="dcterms:extent" mode="jp2"><xsl:if test="normalize-space(.)"><dcterms:extent><xsl:call-template name="element-lang"/><xsl:value-of select="."/></dcterms:extent></xsl:if></xsl:template>
  <xsl:template match="jpcoar:format" mode="jp2"><xsl:if test="normalize-space(.)"><jpcoar:format><xsl:call-template name="element-lang"/><xsl:value-of select="."/></jpcoar:format></xsl:if></xsl:template>
  <xsl:template match="jpcoar:sourceTitle" mode="jp2"><xsl:if test="normalize-space(.)"><jpcoar:sourceTitle><xsl:call-template name="element-lang"/><xsl:value-of select="."/></jpcoar:sourceTitle></xsl:if></xsl:template>
  <xsl:template match="dcndl:degreeName" mode="jp2"><xsl:if test="normalize-space(.)"><dcndl:degreeName><xsl:call-template name="element-lang"/><xsl:value-of select="."/></dcndl:degreeName></xsl:if></xsl:template>
  <xsl:template match="jpcoar:familyName" mode="jp2"><xsl:if test="normalize-space(.)"><jpcoar:familyName><xsl:call-template name="element-lang"/><xsl:value-of select="."/></jpcoar:familyName></xsl:if></xsl:template>
  <xsl:template match="jpcoar:givenName" mode="jp2"><xsl:if test="normalize-space(.)"><jpcoar:givenName><xsl:call-template name="element-lang"/><xsl:value-of select="."/></jpcoar:givenName></xsl:if></xsl:template>
  <xsl:template match="jpcoar:creatorAlternative" mode="jp2"><xsl:if test="normalize-space(.)"><jpcoar:creatorAlternative><xsl:call-template name="element-lang"/><xsl:value-of select="."/></jpcoar:creatorAlternative></xsl:if></xsl:template>
  <xsl:template match="jpcoar:contributorAlternative" mode="jp2"><xsl:if test="normalize-space(.)"><jpcoar:contributorAlternative><xsl:call-template name="element-lang"/><xsl:value-of select="."/></jpcoar:contributorAlternative></xsl:if></xsl:template>
  <xsl:template match="jpcoar:affiliationName" mode="jp2"><xsl:if test="normalize-space(.)"><jpcoar:affiliationName><xsl:call-template name="element-lang"/><xsl:value-of select="."/></jpcoar:affiliationName></xsl:if></xsl:template>
  <xsl:template match="jpcoar:rightsHolderName" mode="jp2"><xsl:if test="normalize-space(.)"><jpcoar:rightsHolderName><xsl:call-template name="element-lang"/><xsl:value-of select="."/></jpcoar:rightsHolderName></xsl:if></xsl:template>
  <xsl:template match="jpcoar:relatedTitle" mode="jp2"><xsl:if test="normalize-space(.)"><jpcoar:relatedTitle><xsl:call-template name="element-lang"/><xsl:value-of select="."/></jpcoar:relatedTitle></xsl:if></xsl:template>
  <xsl:template match="jpcoar:degreeGrantorName" mode="jp2"><xsl:if test="normalize-space(.)"><jpcoar:degreeGrantorName><xsl:call-template name="element-lang"/><xsl:value-of select="."/></jpcoar:degreeGrantorName></xsl:if></xsl:template>
  <xsl:template match="jpcoar:conferenceName" mode="jp2"><xsl:if test="normalize-space(.)"><jpcoar:conferenceName><xsl:call-template name="element-lang"/><xsl:value-of select="."/></jpcoar:conferenceName></xsl:if></xsl:template>
  <xsl:template match="jpcoar:conferenceSponsor" mode="jp2"><xsl:if test="normalize-space(.)"><jpcoar:conferenceSponsor><xsl:call-template name="element-lang"/><xsl:value-of select="."/></jpcoar:conferenceSponsor></xsl:if></xsl:template>
  <xsl:template match="jpcoar:conferenceVenue" mode="jp2"><xsl:if test="normalize-space(.)"><jpcoar:conferenceVenue><xsl:call-template name="element-lang"/><xsl:value-of select="."/></jpcoar:conferenceVenue></xsl:if></xsl:template>
  <xsl:template match="jpcoar:conferencePlace" mode="jp2"><xsl:if test="normalize-space(.)"><jpcoar:conferencePlace><xsl:call-template name="element-lang"/><xsl:value-of select="."/></jpcoar:conferencePlace></xsl:if></xsl:template>
  <xsl:template match="jpcoar:funderName" mode="jp2"><xsl:if test="normalize-space(.)"><jpcoar:funderName><xsl:call-template name="element-lang"/><xsl:value-of select="."/></jpcoar:funderName></xsl:if></xsl:template>
  <xsl:template match="jpcoar:fundingStream" mode="jp2"><xsl:if test="normalize-space(.)"><jpcoar:fundingStream><xsl:call-template name="element-lang"/><xsl:value-of select="."/></jpcoar:fundingStream></xsl:if></xsl:template>
  <xsl:template match="jpcoar:awardTitle" mode="jp2"><xsl:if test="normalize-space(.)"><jpcoar:awardTitle><xsl:call-template name="element-lang"/><xsl:value-of select="."/></jpcoar:awardTitle></xsl:if></xsl:template>
  <xsl:template match="jpcoar:publisherName" mode="jp2"><xsl:if test="normalize-space(.)"><jpcoar:publisherName><xsl:call-template name="element-lang"/><xsl:value-of select="."/></jpcoar:publisherName></xsl:if></xsl:template>
  <xsl:template match="jpcoar:publisherDescription" mode="jp2"><xsl:if test="normalize-space(.)"><jpcoar:publisherDescription><xsl:call-template name="element-lang"/><xsl:value-of select="."/></jpcoar:publisherDescription></xsl:if></xsl:template>
  <xsl:template match="dcndl:location" mode="jp2"><xsl:if test="normalize-space(.)"><dcndl:location><xsl:call-template name="element-lang"/><xsl:value-of select="."/></dcndl:location></xsl:if></xsl:template>
  <xsl:template match="jpcoar:holdingAgentName" mode="jp2"><xsl:if test="normalize-space(.)"><jpcoar:holdingAgentName><xsl:call-template name="element-lang"/><xsl:value-of select="."/></jpcoar:holdingAgentName></xsl:if></xsl:template>

  <xsl:template match="dcterms:format" mode="jp2">
    <xsl:if test="normalize-space()">
      <jpcoar:format><xsl:call-template name="element-lang"/><xsl:value-of select="."/></jpcoar:format>
    </xsl:if>
  </xsl:template>

  <!-- plain xs:string elements (no attributes allowed) -->
  <xsl:template match="dcndl:originalLanguage" mode="jp2"><xsl:if test="normalize-space(.)"><dcndl:originalLanguage><xsl:value-of select="."/></dcndl:originalLanguage></xsl:if></xsl:template>
  <xsl:template match="dcndl:publicationPlace" mode="jp2"><xsl:if test="normalize-space(.)"><dcndl:publicationPlace><xsl:value-of select="."/></dcndl:publicationPlace></xsl:if></xsl:template>
  <xsl:template match="dcndl:dissertationNumber" mode="jp2"><xsl:if test="normalize-space(.)"><dcndl:dissertationNumber><xsl:value-of select="."/></dcndl:dissertationNumber></xsl:if></xsl:template>
  <xsl:template match="jpcoar:volume" mode="jp2"><xsl:if test="normalize-space(.)"><jpcoar:volume><xsl:value-of select="."/></jpcoar:volume></xsl:if></xsl:template>
  <xsl:template match="jpcoar:issue" mode="jp2"><xsl:if test="normalize-space(.)"><jpcoar:issue><xsl:value-of select="."/></jpcoar:issue></xsl:if></xsl:template>
  <xsl:template match="jpcoar:mimeType" mode="jp2"><xsl:if test="normalize-space(.)"><jpcoar:mimeType><xsl:value-of select="."/></jpcoar:mimeType></xsl:if></xsl:template>
  <xsl:template match="jpcoar:extent" mode="jp2"><xsl:if test="normalize-space(.)"><jpcoar:extent><xsl:value-of select="."/></jpcoar:extent></xsl:if></xsl:template>
  <xsl:template match="datacite:version" mode="jp2"><xsl:if test="normalize-space(.)"><datacite:version><xsl:value-of select="."/></datacite:version></xsl:if></xsl:template>
  <xsl:template match="jpcoar:datasetSeries" mode="jp2"><xsl:if test="normalize-space(.)"><jpcoar:datasetSeries><xsl:value-of select="."/></jpcoar:datasetSeries></xsl:if></xsl:template>
  <xsl:template match="datacite:geoLocationPlace" mode="jp2"><xsl:if test="normalize-space(.)"><datacite:geoLocationPlace><xsl:value-of select="."/></datacite:geoLocationPlace></xsl:if></xsl:template>

  <!-- numbers and dates, already checked where jp2-root selects them: written trimmed -->
  <xsl:template match="jpcoar:numPages" mode="jp2"><jpcoar:numPages><xsl:value-of select="normalize-space(.)"/></jpcoar:numPages></xsl:template>
  <xsl:template match="jpcoar:pageStart" mode="jp2"><jpcoar:pageStart><xsl:value-of select="normalize-space(.)"/></jpcoar:pageStart></xsl:template>
  <xsl:template match="jpcoar:pageEnd" mode="jp2"><jpcoar:pageEnd><xsl:value-of select="normalize-space(.)"/></jpcoar:pageEnd></xsl:template>
  <xsl:template match="jpcoar:conferenceSequence" mode="jp2"><jpcoar:conferenceSequence><xsl:value-of select="normalize-space(.)"/></jpcoar:conferenceSequence></xsl:template>
  <xsl:template match="dcndl:dateGranted" mode="jp2"><dcndl:dateGranted><xsl:value-of select="normalize-space(.)"/></dcndl:dateGranted></xsl:template>

  <xsl:template match="jpcoar:conferenceCountry" mode="jp2">
    <xsl:if test="regexp:test(normalize-space(.), '^[A-Z]{3}$')">
      <jpcoar:conferenceCountry><xsl:value-of select="normalize-space(.)"/></jpcoar:conferenceCountry>
    </xsl:if>
  </xsl:template>

  <!-- ============================================================ people and organisations -->
  <xsl:template match="jpcoar:creator" mode="jp2">
    <xsl:if test="normalize-space(.)">
      <jpcoar:creator>
        <xsl:if test="normalize-space(@creatorType)"><xsl:attribute name="creatorType"><xsl:value-of select="normalize-space(@creatorType)"/></xsl:attribute></xsl:if>
        <xsl:apply-templates select="jpcoar:nameIdentifier" mode="jp2"/>
        <xsl:apply-templates select="jpcoar:creatorName" mode="jp2"/>
        <xsl:apply-templates select="jpcoar:familyName" mode="jp2"/>
        <xsl:apply-templates select="jpcoar:givenName" mode="jp2"/>
        <xsl:apply-templates select="jpcoar:creatorAlternative" mode="jp2"/>
        <xsl:apply-templates select="jpcoar:affiliation" mode="jp2"/>
      </jpcoar:creator>
    </xsl:if>
  </xsl:template>

  <xsl:template match="jpcoar:contributor" mode="jp2">
    <xsl:if test="normalize-space(.)">
      <jpcoar:contributor>
        <xsl:if test="contains($CONTRIBUTOR_TYPES, concat(' ', normalize-space(@contributorType), ' '))">
          <xsl:attribute name="contributorType"><xsl:value-of select="normalize-space(@contributorType)"/></xsl:attribute>
        </xsl:if>
        <xsl:apply-templates select="jpcoar:nameIdentifier" mode="jp2"/>
        <xsl:apply-templates select="jpcoar:contributorName" mode="jp2"/>
        <xsl:apply-templates select="jpcoar:familyName" mode="jp2"/>
        <xsl:apply-templates select="jpcoar:givenName" mode="jp2"/>
        <xsl:apply-templates select="jpcoar:contributorAlternative" mode="jp2"/>
        <xsl:apply-templates select="jpcoar:affiliation" mode="jp2"/>
      </jpcoar:contributor>
    </xsl:if>
  </xsl:template>

  <xsl:template match="jpcoar:creatorName" mode="jp2">
    <xsl:if test="normalize-space(.)">
      <jpcoar:creatorName><xsl:call-template name="name-attributes"/><xsl:value-of select="."/></jpcoar:creatorName>
    </xsl:if>
  </xsl:template>

  <xsl:template match="jpcoar:contributorName" mode="jp2">
    <xsl:if test="normalize-space(.)">
      <jpcoar:contributorName><xsl:call-template name="name-attributes"/><xsl:value-of select="."/></jpcoar:contributorName>
    </xsl:if>
  </xsl:template>

  <xsl:template name="name-attributes">
    <xsl:call-template name="element-lang"/>
    <xsl:if test="@nameType = 'Organizational' or @nameType = 'Personal'">
      <xsl:attribute name="nameType"><xsl:value-of select="@nameType"/></xsl:attribute>
    </xsl:if>
  </xsl:template>

  <xsl:template match="jpcoar:affiliation" mode="jp2">
    <xsl:if test="normalize-space(.)">
      <jpcoar:affiliation>
        <xsl:apply-templates select="jpcoar:nameIdentifier" mode="jp2"/>
        <xsl:apply-templates select="jpcoar:affiliationName" mode="jp2"/>
      </jpcoar:affiliation>
    </xsl:if>
  </xsl:template>

  <xsl:template match="jpcoar:rightsHolder" mode="jp2">
    <xsl:if test="normalize-space(.)">
      <jpcoar:rightsHolder>
        <xsl:apply-templates select="jpcoar:nameIdentifier" mode="jp2"/>
        <xsl:apply-templates select="jpcoar:rightsHolderName" mode="jp2"/>
      </jpcoar:rightsHolder>
    </xsl:if>
  </xsl:template>

  <xsl:template match="jpcoar:degreeGrantor" mode="jp2">
    <xsl:if test="normalize-space(.)">
      <jpcoar:degreeGrantor>
        <xsl:apply-templates select="jpcoar:nameIdentifier" mode="jp2"/>
        <xsl:apply-templates select="jpcoar:degreeGrantorName" mode="jp2"/>
      </jpcoar:degreeGrantor>
    </xsl:if>
  </xsl:template>

  <xsl:template match="jpcoar:nameIdentifier" mode="jp2">
    <!-- JPCOAR 1.0 called the e-Rad researcher number "e-Rad"; 2.0 renamed it: "e-Rad" gets "_Researcher" appended
         (substring(s, 1, 0) is empty).  A string, not a variable with content: that would be a result tree fragment
         built for every identifier. -->
    <xsl:variable name="given" select="normalize-space(@nameIdentifierScheme)"/>
    <xsl:variable name="scheme" select="concat($given, substring('_Researcher', 1, 11 * ($given = 'e-Rad')))"/>
    <xsl:if test="normalize-space(.) and contains($NAME_ID_SCHEMES, concat(' ', $scheme, ' '))">
      <jpcoar:nameIdentifier nameIdentifierScheme="{$scheme}">
        <xsl:if test="normalize-space(@nameIdentifierURI)"><xsl:attribute name="nameIdentifierURI"><xsl:value-of select="normalize-space(@nameIdentifierURI)"/></xsl:attribute></xsl:if>
        <xsl:value-of select="normalize-space(.)"/>
      </jpcoar:nameIdentifier>
    </xsl:if>
  </xsl:template>

  <!-- ============================================================ rights, subjects, descriptions -->
  <xsl:template match="dc:rights" mode="jp2">
    <xsl:if test="normalize-space(.) or normalize-space(@rdf:resource)">
      <dc:rights>
        <xsl:call-template name="element-lang"/>
        <xsl:if test="normalize-space(@rdf:resource)"><xsl:attribute name="rdf:resource"><xsl:value-of select="normalize-space(@rdf:resource)"/></xsl:attribute></xsl:if>
        <xsl:value-of select="."/>
      </dc:rights>
    </xsl:if>
  </xsl:template>

  <xsl:template match="jpcoar:subject" mode="jp2">
    <xsl:variable name="given" select="normalize-space(@subjectScheme)"/>
    <xsl:if test="normalize-space(.)">
      <jpcoar:subject>
        <xsl:call-template name="element-lang"/>
        <xsl:attribute name="subjectScheme">
          <xsl:choose>
            <xsl:when test="$given = 'Sci-Val'">SciVal</xsl:when>
            <xsl:when test="contains($SUBJECT_SCHEMES, concat(' ', $given, ' ')) and $given != ''"><xsl:value-of select="$given"/></xsl:when>
            <xsl:otherwise>Other</xsl:otherwise>
          </xsl:choose>
        </xsl:attribute>
        <xsl:if test="normalize-space(@subjectURI)"><xsl:attribute name="subjectURI"><xsl:value-of select="normalize-space(@subjectURI)"/></xsl:attribute></xsl:if>
        <xsl:value-of select="."/>
      </jpcoar:subject>
    </xsl:if>
  </xsl:template>

  <xsl:template match="datacite:description" mode="jp2">
    <xsl:variable name="given" select="normalize-space(@descriptionType)"/>
    <xsl:if test="normalize-space(.)">
      <datacite:description>
        <xsl:call-template name="element-lang"/>
        <xsl:attribute name="descriptionType">
          <xsl:choose>
            <xsl:when test="$given != '' and contains($DESCRIPTION_TYPES, concat(' ', $given, ' '))"><xsl:value-of select="$given"/></xsl:when>
            <xsl:otherwise>Other</xsl:otherwise>
          </xsl:choose>
        </xsl:attribute>
        <xsl:value-of select="."/>
      </datacite:description>
    </xsl:if>
  </xsl:template>

  <xsl:template match="jpcoar:publisher" mode="jp2">
    <xsl:if test="normalize-space(.)">
      <jpcoar:publisher>
        <xsl:apply-templates select="jpcoar:publisherName" mode="jp2"/>
        <xsl:apply-templates select="jpcoar:publisherDescription" mode="jp2"/>
        <xsl:apply-templates select="dcndl:location" mode="jp2"/>
        <xsl:apply-templates select="dcndl:publicationPlace" mode="jp2"/>
      </jpcoar:publisher>
    </xsl:if>
  </xsl:template>

  <!-- ============================================================ dates and languages -->
  <xsl:template match="datacite:date" mode="jp2">
    <xsl:variable name="value"><xsl:call-template name="dtf-date"/></xsl:variable>
    <xsl:if test="$value != '' and contains($DATE_TYPES, concat(' ', normalize-space(@dateType), ' ')) and normalize-space(@dateType) != ''">
      <datacite:date dateType="{normalize-space(@dateType)}"><xsl:value-of select="$value"/></datacite:date>
    </xsl:if>
  </xsl:template>

  <xsl:template match="datacite:date" mode="jp2-untyped-date">
    <xsl:if test="normalize-space(.) and not(normalize-space(@dateType) != '' and contains($DATE_TYPES, concat(' ', normalize-space(@dateType), ' ')))">
      <dcterms:date><xsl:value-of select="normalize-space(.)"/></dcterms:date>
    </xsl:if>
  </xsl:template>

  <xsl:template match="dc:language" mode="jp2">
    <xsl:variable name="v" select="translate(normalize-space(.), $UC, $LC)"/>
    <xsl:variable name="base">
      <xsl:choose>
        <xsl:when test="contains($v, '-')"><xsl:value-of select="substring-before($v, '-')"/></xsl:when>
        <xsl:when test="contains($v, '_')"><xsl:value-of select="substring-before($v, '_')"/></xsl:when>
        <xsl:otherwise><xsl:value-of select="$v"/></xsl:otherwise>
      </xsl:choose>
    </xsl:variable>
    <xsl:choose>
      <xsl:when test="regexp:test($base, '^[a-z]{3}$')"><dc:language><xsl:value-of select="$base"/></dc:language></xsl:when>
      <xsl:when test="$LANGS/lang[@code = $base]"><dc:language><xsl:value-of select="$LANGS/lang[@code = $base]/@iso3"/></dc:language></xsl:when>
    </xsl:choose>
  </xsl:template>

  <!-- ============================================================ relations -->
  <xsl:template match="jpcoar:relation" mode="jp2">
    <xsl:variable name="rid" select="jpcoar:relatedIdentifier[normalize-space()][contains($RELATED_ID_TYPES, concat(' ', normalize-space(@identifierType), ' '))][1]"/>
    <xsl:if test="$rid or jpcoar:relatedTitle[normalize-space()]">
      <jpcoar:relation>
        <xsl:if test="contains($RELATION_TYPES, concat(' ', normalize-space(@relationType), ' ')) and normalize-space(@relationType) != ''">
          <xsl:attribute name="relationType"><xsl:value-of select="normalize-space(@relationType)"/></xsl:attribute>
        </xsl:if>
        <xsl:if test="$rid">
          <jpcoar:relatedIdentifier identifierType="{normalize-space($rid/@identifierType)}"><xsl:value-of select="normalize-space($rid)"/></jpcoar:relatedIdentifier>
        </xsl:if>
        <xsl:apply-templates select="jpcoar:relatedTitle" mode="jp2"/>
      </jpcoar:relation>
    </xsl:if>
  </xsl:template>

  <xsl:template match="jpcoar:identifierRegistration" mode="jp2">
    <jpcoar:identifierRegistration identifierType="{@identifierType}"><xsl:value-of select="normalize-space(.)"/></jpcoar:identifierRegistration>
  </xsl:template>

  <!-- ============================================================ geoLocation -->
  <xsl:template match="datacite:geoLocation" mode="jp2">
    <xsl:variable name="point" select="datacite:geoLocationPoint[
        string(number(normalize-space(datacite:pointLongitude))) != 'NaN' and number(datacite:pointLongitude) &gt;= -180 and number(datacite:pointLongitude) &lt;= 180
        and string(number(normalize-space(datacite:pointLatitude))) != 'NaN' and number(datacite:pointLatitude) &gt;= -90 and number(datacite:pointLatitude) &lt;= 90][1]"/>
    <xsl:variable name="box" select="datacite:geoLocationBox[
        string(number(normalize-space(datacite:westBoundLongitude))) != 'NaN' and number(datacite:westBoundLongitude) &gt;= -180 and number(datacite:westBoundLongitude) &lt;= 180
        and string(number(normalize-space(datacite:eastBoundLongitude))) != 'NaN' and number(datacite:eastBoundLongitude) &gt;= -180 and number(datacite:eastBoundLongitude) &lt;= 180
        and string(number(normalize-space(datacite:southBoundLatitude))) != 'NaN' and number(datacite:southBoundLatitude) &gt;= -90 and number(datacite:southBoundLatitude) &lt;= 90
        and string(number(normalize-space(datacite:northBoundLatitude))) != 'NaN' and number(datacite:northBoundLatitude) &gt;= -90 and number(datacite:northBoundLatitude) &lt;= 90][1]"/>
    <xsl:variable name="places" select="datacite:geoLocationPlace[normalize-space()]"/>
    <xsl:if test="$point or $box or $places">
      <datacite:geoLocation>
        <xsl:for-each select="$point">
          <datacite:geoLocationPoint>
            <datacite:pointLongitude><xsl:value-of select="normalize-space(datacite:pointLongitude)"/></datacite:pointLongitude>
            <datacite:pointLatitude><xsl:value-of select="normalize-space(datacite:pointLatitude)"/></datacite:pointLatitude>
          </datacite:geoLocationPoint>
        </xsl:for-each>
        <xsl:for-each select="$box">
          <datacite:geoLocationBox>
            <datacite:westBoundLongitude><xsl:value-of select="normalize-space(datacite:westBoundLongitude)"/></datacite:westBoundLongitude>
            <datacite:eastBoundLongitude><xsl:value-of select="normalize-space(datacite:eastBoundLongitude)"/></datacite:eastBoundLongitude>
            <datacite:southBoundLatitude><xsl:value-of select="normalize-space(datacite:southBoundLatitude)"/></datacite:southBoundLatitude>
            <datacite:northBoundLatitude><xsl:value-of select="normalize-space(datacite:northBoundLatitude)"/></datacite:northBoundLatitude>
          </datacite:geoLocationBox>
        </xsl:for-each>
        <xsl:apply-templates select="$places" mode="jp2"/>
      </datacite:geoLocation>
    </xsl:if>
  </xsl:template>

  <!-- ============================================================ funding -->
  <xsl:template match="jpcoar:fundingReference" mode="jp2">
    <!-- funderName is required by the schema; a reference without one cannot be written valid -->
    <xsl:if test="jpcoar:funderName[normalize-space()]">
      <jpcoar:fundingReference>
        <xsl:apply-templates select="(jpcoar:funderIdentifier | datacite:funderIdentifier)[normalize-space()][1]" mode="jp2"/>
        <xsl:apply-templates select="jpcoar:funderName" mode="jp2"/>
        <xsl:apply-templates select="jpcoar:fundingStreamIdentifier[normalize-space()][1]" mode="jp2"/>
        <xsl:apply-templates select="jpcoar:fundingStream" mode="jp2"/>
        <xsl:apply-templates select="(jpcoar:awardNumber | datacite:awardNumber)[normalize-space()][1]" mode="jp2"/>
        <xsl:apply-templates select="jpcoar:awardTitle" mode="jp2"/>
      </jpcoar:fundingReference>
    </xsl:if>
  </xsl:template>

  <xsl:template match="jpcoar:funderIdentifier | datacite:funderIdentifier" mode="jp2">
    <xsl:variable name="given" select="normalize-space(@funderIdentifierType)"/>
    <jpcoar:funderIdentifier>
      <xsl:attribute name="funderIdentifierType">
        <xsl:choose>
          <xsl:when test="$given != '' and contains($FUNDER_ID_TYPES, concat(' ', translate($given, ' ', '_'), ' '))"><xsl:value-of select="$given"/></xsl:when>
          <xsl:otherwise>Other</xsl:otherwise>
        </xsl:choose>
      </xsl:attribute>
      <xsl:if test="normalize-space(@funderIdentifierTypeURI)"><xsl:attribute name="funderIdentifierTypeURI"><xsl:value-of select="normalize-space(@funderIdentifierTypeURI)"/></xsl:attribute></xsl:if>
      <xsl:value-of select="normalize-space(.)"/>
    </jpcoar:funderIdentifier>
  </xsl:template>

  <xsl:template match="jpcoar:fundingStreamIdentifier" mode="jp2">
    <xsl:variable name="given" select="normalize-space(@fundingStreamIdentifierType)"/>
    <jpcoar:fundingStreamIdentifier>
      <xsl:if test="$given != '' and contains($STREAM_ID_TYPES, concat(' ', translate($given, ' ', '_'), ' '))">
        <xsl:attribute name="fundingStreamIdentifierType"><xsl:value-of select="$given"/></xsl:attribute>
      </xsl:if>
      <xsl:if test="normalize-space(@fundingStreamIdentifierTypeURI)"><xsl:attribute name="fundingStreamIdentifierTypeURI"><xsl:value-of select="normalize-space(@fundingStreamIdentifierTypeURI)"/></xsl:attribute></xsl:if>
      <xsl:value-of select="normalize-space(.)"/>
    </jpcoar:fundingStreamIdentifier>
  </xsl:template>

  <xsl:template match="jpcoar:awardNumber | datacite:awardNumber" mode="jp2">
    <jpcoar:awardNumber>
      <xsl:if test="normalize-space(@awardURI)"><xsl:attribute name="awardURI"><xsl:value-of select="normalize-space(@awardURI)"/></xsl:attribute></xsl:if>
      <xsl:if test="normalize-space(@awardNumberType)"><xsl:attribute name="awardNumberType"><xsl:value-of select="normalize-space(@awardNumberType)"/></xsl:attribute></xsl:if>
      <xsl:value-of select="normalize-space(.)"/>
    </jpcoar:awardNumber>
  </xsl:template>

  <xsl:template match="jpcoar:sourceIdentifier" mode="jp2">
    <xsl:if test="normalize-space(.) and normalize-space(@identifierType) != '' and contains($SOURCE_ID_TYPES, concat(' ', normalize-space(@identifierType), ' '))">
      <jpcoar:sourceIdentifier identifierType="{normalize-space(@identifierType)}"><xsl:value-of select="normalize-space(.)"/></jpcoar:sourceIdentifier>
    </xsl:if>
  </xsl:template>

  <!-- ============================================================ holding agent, conference, file, catalog -->
  <xsl:template match="jpcoar:holdingAgent" mode="jp2">
    <xsl:variable name="nid" select="jpcoar:holdingAgentNameIdentifier[normalize-space()][normalize-space(@nameIdentifierScheme) != '' and contains($HOLDING_ID_SCHEMES, concat(' ', normalize-space(@nameIdentifierScheme), ' '))][1]"/>
    <xsl:if test="$nid or jpcoar:holdingAgentName[normalize-space()]">
      <jpcoar:holdingAgent>
        <xsl:for-each select="$nid">
          <jpcoar:holdingAgentNameIdentifier nameIdentifierScheme="{normalize-space(@nameIdentifierScheme)}">
            <xsl:call-template name="element-lang"/>
            <xsl:if test="normalize-space(@nameIdentifierURI)"><xsl:attribute name="nameIdentifierURI"><xsl:value-of select="normalize-space(@nameIdentifierURI)"/></xsl:attribute></xsl:if>
            <xsl:value-of select="normalize-space(.)"/>
          </jpcoar:holdingAgentNameIdentifier>
        </xsl:for-each>
        <xsl:apply-templates select="jpcoar:holdingAgentName" mode="jp2"/>
      </jpcoar:holdingAgent>
    </xsl:if>
  </xsl:template>

  <xsl:template match="jpcoar:conference" mode="jp2">
    <xsl:if test="normalize-space(.) or jpcoar:conferenceDate/@*">
      <jpcoar:conference>
        <xsl:apply-templates select="jpcoar:conferenceName" mode="jp2"/>
        <xsl:apply-templates select="jpcoar:conferenceSequence[regexp:test(normalize-space(.), '^0*[1-9][0-9]*$')][1]" mode="jp2"/>
        <xsl:apply-templates select="jpcoar:conferenceSponsor" mode="jp2"/>
        <xsl:apply-templates select="jpcoar:conferenceDate[1]" mode="jp2"/>
        <xsl:apply-templates select="jpcoar:conferenceVenue" mode="jp2"/>
        <xsl:apply-templates select="jpcoar:conferencePlace" mode="jp2"/>
        <xsl:apply-templates select="jpcoar:conferenceCountry[1]" mode="jp2"/>
      </jpcoar:conference>
    </xsl:if>
  </xsl:template>

  <xsl:template match="jpcoar:conferenceDate" mode="jp2">
    <jpcoar:conferenceDate>
      <xsl:call-template name="element-lang"/>
      <xsl:call-template name="date-part"><xsl:with-param name="name" select="'startYear'"/><xsl:with-param name="value" select="(@startYear | @starYear)[1]"/><xsl:with-param name="re" select="'^(1[4-9]\d\d|2[01]\d\d|2200)$'"/></xsl:call-template>
      <xsl:call-template name="date-part"><xsl:with-param name="name" select="'startMonth'"/><xsl:with-param name="value" select="@startMonth"/><xsl:with-param name="re" select="'^(0?[1-9]|1[0-2])$'"/></xsl:call-template>
      <xsl:call-template name="date-part"><xsl:with-param name="name" select="'startDay'"/><xsl:with-param name="value" select="@startDay"/><xsl:with-param name="re" select="'^(0?[1-9]|[12]\d|3[01])$'"/></xsl:call-template>
      <xsl:call-template name="date-part"><xsl:with-param name="name" select="'endYear'"/><xsl:with-param name="value" select="@endYear"/><xsl:with-param name="re" select="'^(1[4-9]\d\d|2[01]\d\d|2200)$'"/></xsl:call-template>
      <xsl:call-template name="date-part"><xsl:with-param name="name" select="'endMonth'"/><xsl:with-param name="value" select="@endMonth"/><xsl:with-param name="re" select="'^(0?[1-9]|1[0-2])$'"/></xsl:call-template>
      <xsl:call-template name="date-part"><xsl:with-param name="name" select="'endDay'"/><xsl:with-param name="value" select="@endDay"/><xsl:with-param name="re" select="'^(0?[1-9]|[12]\d|3[01])$'"/></xsl:call-template>
      <xsl:value-of select="."/>
    </jpcoar:conferenceDate>
  </xsl:template>

  <!-- conferenceDate attributes: the 1.0 samples misspell startYear as "starYear", which is repaired here -->
  <xsl:template name="date-part">
    <xsl:param name="name"/>
    <xsl:param name="value"/>
    <xsl:param name="re"/>
    <xsl:if test="$value and regexp:test(normalize-space($value), $re)">
      <xsl:attribute name="{$name}"><xsl:value-of select="normalize-space($value)"/></xsl:attribute>
    </xsl:if>
  </xsl:template>

  <xsl:template match="jpcoar:file" mode="jp2">
    <xsl:if test="normalize-space(.)">
      <jpcoar:file>
        <xsl:apply-templates select="jpcoar:URI[normalize-space()][1]" mode="jp2"/>
        <xsl:apply-templates select="jpcoar:mimeType[normalize-space()][1]" mode="jp2"/>
        <xsl:apply-templates select="jpcoar:extent" mode="jp2"/>
        <xsl:apply-templates select="datacite:date" mode="jp2"/>
        <xsl:apply-templates select="datacite:version[normalize-space()][1]" mode="jp2"/>
      </jpcoar:file>
    </xsl:if>
  </xsl:template>

  <xsl:template match="jpcoar:URI" mode="jp2">
    <jpcoar:URI>
      <xsl:if test="normalize-space(@objectType) != '' and contains($OBJECT_TYPES, concat(' ', normalize-space(@objectType), ' '))">
        <xsl:attribute name="objectType"><xsl:value-of select="normalize-space(@objectType)"/></xsl:attribute>
      </xsl:if>
      <xsl:if test="@label"><xsl:attribute name="label"><xsl:value-of select="@label"/></xsl:attribute></xsl:if>
      <xsl:value-of select="normalize-space(.)"/>
    </jpcoar:URI>
  </xsl:template>

  <xsl:template match="jpcoar:catalog" mode="jp2">
    <xsl:if test="normalize-space(.)">
      <jpcoar:catalog>
        <xsl:apply-templates select="jpcoar:contributor" mode="jp2"/>
        <xsl:apply-templates select="jpcoar:identifier" mode="jp2"/>
        <xsl:apply-templates select="dc:title" mode="jp2"/>
        <xsl:apply-templates select="datacite:description" mode="jp2"/>
        <xsl:apply-templates select="jpcoar:subject" mode="jp2"/>
        <xsl:apply-templates select="jpcoar:license" mode="jp2"/>
        <xsl:apply-templates select="dc:rights" mode="jp2"/>
        <xsl:call-template name="access-rights"/>
        <xsl:apply-templates select="jpcoar:file[1]" mode="jp2"/>
      </jpcoar:catalog>
    </xsl:if>
  </xsl:template>

  <xsl:template match="jpcoar:license" mode="jp2">
    <xsl:if test="normalize-space(.) and (@licenseType = 'file' or @licenseType = 'metadata' or @licenseType = 'thumbnail')">
      <jpcoar:license licenseType="{@licenseType}">
        <xsl:call-template name="element-lang"/>
        <xsl:if test="normalize-space(@rdf:resource)"><xsl:attribute name="rdf:resource"><xsl:value-of select="normalize-space(@rdf:resource)"/></xsl:attribute></xsl:if>
        <xsl:value-of select="."/>
      </jpcoar:license>
    </xsl:if>
  </xsl:template>

</xsl:stylesheet>
