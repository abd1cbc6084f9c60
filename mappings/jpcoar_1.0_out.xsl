<?xml version="1.0" encoding="UTF-8"?>
<!--
  canonical (JPCOAR 2.0) -> jpcoar_1.0, valid against the 1.0 schema.
  In this stylesheet the prefix c2 names the canonical (2.0) namespace and jpcoar the 1.0 one that is written.
  The 1.0 root sequence is the 2.0 one with elements removed, so children are visited in canonical order and each is
  renamed, adapted or left out:
    left out (1.0 has no such element): dcterms:date, dcndl:edition, dcndl:volumeTitle, dcndl:originalLanguage,
      dcterms:extent, jpcoar:format, jpcoar:holdingAgent, jpcoar:datasetSeries, jpcoar:catalog,
      jpcoar:fundingStreamIdentifier, jpcoar:fundingStream, creator/@creatorType, */@nameType,
      jpcoar:URI/@objectType="iiif", relation types inSeries/isCitedBy/Cites, related identifier types CRID/ISSN/NCID,
      name identifiers with scheme ROR
    adapted: jpcoar:publisher/jpcoar:publisherName -> dc:publisher; nameIdentifierScheme e-Rad_Researcher -> e-Rad;
      subjectScheme SciVal -> Sci-Val, e-Rad_field and JEL -> Other; funderIdentifier -> datacite:funderIdentifier
      (types e-Rad_funder and ROR -> Other); awardNumber -> datacite:awardNumber; dc:type -> the 1.0 term named by v1
      in vocab/coar_resource_types.xml; dcterms:accessRights gets the rdf:resource 1.0 requires; datacite:date is cut
      to a date, year-month or year (1.0 allows no times and no ranges).
-->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:regexp="http://exslt.org/regular-expressions"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xmlns:c2="https://github.com/JPCOAR/schema/blob/master/2.0/"
    xmlns:jpcoar="https://github.com/JPCOAR/schema/blob/master/1.0/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:dcterms="http://purl.org/dc/terms/"
    xmlns:datacite="https://schema.datacite.org/meta/kernel-4/"
    xmlns:oaire="http://namespace.openaire.eu/schema/oaire/"
    xmlns:dcndl="http://ndl.go.jp/dcndl/terms/"
    xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
    exclude-result-prefixes="regexp c2">
  <xsl:output method="xml" encoding="UTF-8" indent="no"/>
  <xsl:param name="schema_location" select="''"/>

  <xsl:variable name="JP1" select="'https://github.com/JPCOAR/schema/blob/master/1.0/'"/>
  <xsl:variable name="TYPES" select="document('vocab/coar_resource_types.xml')/vocab"/>
  <xsl:variable name="RIGHTS" select="document('vocab/coar_access_rights.xml')/vocab"/>
  <xsl:variable name="V1_TYPES" select="'| conference paper | data paper | departmental bulletin paper | editorial | journal article | newspaper | periodical | review article | software paper | article | book | book part | cartographic material | map | conference object | conference proceedings | conference poster | dataset | interview | image | still image | moving image | video | lecture | patent | internal report | report | research report | technical report | policy report | report part | working paper | data management plan | sound | thesis | bachelor thesis | master thesis | doctoral thesis | interactive resource | learning object | manuscript | musical notation | research proposal | software | technical documentation | workflow | other |'"/>

  <xsl:template match="/c2:jpcoar">
    <jpcoar:jpcoar>
      <xsl:if test="$schema_location != ''">
        <xsl:attribute name="xsi:schemaLocation"><xsl:value-of select="$schema_location"/></xsl:attribute>
      </xsl:if>
      <xsl:apply-templates select="*" mode="v1"/>
    </jpcoar:jpcoar>
  </xsl:template>

  <!-- default: jpcoar elements move to the 1.0 namespace, the others are copied; attributes are kept -->
  <xsl:template match="c2:*" mode="v1">
    <xsl:element name="jpcoar:{local-name()}" namespace="{$JP1}">
      <xsl:copy-of select="@*"/>
      <xsl:apply-templates select="*|text()" mode="v1"/>
    </xsl:element>
  </xsl:template>
  <xsl:template match="*" mode="v1">
    <xsl:element name="{name()}" namespace="{namespace-uri()}">
      <xsl:copy-of select="@*"/>
      <xsl:apply-templates select="*|text()" mode="v1"/>
    </xsl:element>
  </xsl:template>

  <xsl:template match="dcterms:date | dcndl:edition | dcndl:volumeTitle | dcndl:originalLanguage | dcterms:extent
                       | c2:format | c2:holdingAgent | c2:datasetSeries | c2:catalog
                       | c2:fundingStreamIdentifier | c2:fundingStream
                       | c2:nameIdentifier[@nameIdentifierScheme = 'ROR']
                       | c2:relatedIdentifier[@identifierType = 'CRID' or @identifierType = 'ISSN' or @identifierType = 'NCID']" mode="v1"/>

  <xsl:template match="c2:creator" mode="v1">
    <jpcoar:creator><xsl:apply-templates select="*" mode="v1"/></jpcoar:creator>
  </xsl:template>

  <xsl:template match="c2:creatorName | c2:contributorName" mode="v1">
    <xsl:element name="jpcoar:{local-name()}" namespace="{$JP1}">
      <xsl:copy-of select="@xml:lang"/>
      <xsl:value-of select="."/>
    </xsl:element>
  </xsl:template>

  <xsl:template match="c2:nameIdentifier[@nameIdentifierScheme = 'e-Rad_Researcher']" mode="v1">
    <jpcoar:nameIdentifier nameIdentifierScheme="e-Rad">
      <xsl:copy-of select="@nameIdentifierURI"/>
      <xsl:value-of select="."/>
    </jpcoar:nameIdentifier>
  </xsl:template>

  <xsl:template match="dcterms:accessRights" mode="v1">
    <xsl:variable name="label" select="normalize-space(.)"/>
    <dcterms:accessRights>
      <xsl:attribute name="rdf:resource">
        <xsl:choose>
          <xsl:when test="normalize-space(@rdf:resource)"><xsl:value-of select="normalize-space(@rdf:resource)"/></xsl:when>
          <xsl:otherwise><xsl:value-of select="$RIGHTS/right[@label = $label]/@uri"/></xsl:otherwise>
        </xsl:choose>
      </xsl:attribute>
      <xsl:value-of select="$label"/>
    </dcterms:accessRights>
  </xsl:template>

  <xsl:template match="c2:subject" mode="v1">
    <jpcoar:subject>
      <xsl:copy-of select="@xml:lang | @subjectURI"/>
      <xsl:attribute name="subjectScheme">
        <xsl:choose>
          <xsl:when test="@subjectScheme = 'SciVal'">Sci-Val</xsl:when>
          <xsl:when test="@subjectScheme = 'e-Rad_field' or @subjectScheme = 'JEL'">Other</xsl:when>
          <xsl:otherwise><xsl:value-of select="@subjectScheme"/></xsl:otherwise>
        </xsl:choose>
      </xsl:attribute>
      <xsl:value-of select="."/>
    </jpcoar:subject>
  </xsl:template>

  <xsl:template match="c2:publisher" mode="v1">
    <xsl:for-each select="c2:publisherName">
      <dc:publisher><xsl:copy-of select="@xml:lang"/><xsl:value-of select="."/></dc:publisher>
    </xsl:for-each>
  </xsl:template>

  <xsl:template match="datacite:date" mode="v1">
    <xsl:variable name="v" select="normalize-space(.)"/>
    <xsl:variable name="start">
      <xsl:choose>
        <xsl:when test="contains($v, '/')"><xsl:value-of select="substring-before($v, '/')"/></xsl:when>
        <xsl:otherwise><xsl:value-of select="$v"/></xsl:otherwise>
      </xsl:choose>
    </xsl:variable>
    <xsl:variable name="day">
      <xsl:choose>
        <xsl:when test="contains($start, 'T')"><xsl:value-of select="substring-before($start, 'T')"/></xsl:when>
        <xsl:otherwise><xsl:value-of select="$start"/></xsl:otherwise>
      </xsl:choose>
    </xsl:variable>
    <xsl:if test="regexp:test($day, '^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$')">
      <datacite:date dateType="{@dateType}"><xsl:value-of select="$day"/></datacite:date>
    </xsl:if>
  </xsl:template>

  <xsl:template match="dc:type" mode="v1">
    <xsl:variable name="label" select="normalize-space(.)"/>
    <xsl:choose>
      <xsl:when test="contains($V1_TYPES, concat('| ', $label, ' |'))">
        <dc:type rdf:resource="{@rdf:resource}"><xsl:value-of select="$label"/></dc:type>
      </xsl:when>
      <xsl:otherwise>
        <xsl:variable name="v1" select="$TYPES/type[@label = $label]/@v1"/>
        <xsl:variable name="target" select="($TYPES/type[@label = $v1] | $TYPES/legacy[@label = $v1])[1]"/>
        <xsl:choose>
          <xsl:when test="$target">
            <dc:type rdf:resource="{$target/@uri}"><xsl:value-of select="$target/@label"/></dc:type>
          </xsl:when>
          <xsl:otherwise>
            <dc:type rdf:resource="{$TYPES/type[@label = 'other']/@uri}">other</dc:type>
          </xsl:otherwise>
        </xsl:choose>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:template match="c2:relation" mode="v1">
    <xsl:variable name="rid" select="c2:relatedIdentifier[not(@identifierType = 'CRID' or @identifierType = 'ISSN' or @identifierType = 'NCID')]"/>
    <xsl:if test="$rid or c2:relatedTitle">
      <jpcoar:relation>
        <xsl:if test="not(@relationType = 'inSeries' or @relationType = 'isCitedBy' or @relationType = 'Cites')">
          <xsl:copy-of select="@relationType"/>
        </xsl:if>
        <xsl:apply-templates select="*" mode="v1"/>
      </jpcoar:relation>
    </xsl:if>
  </xsl:template>

  <xsl:template match="c2:funderIdentifier" mode="v1">
    <datacite:funderIdentifier>
      <xsl:attribute name="funderIdentifierType">
        <xsl:choose>
          <xsl:when test="@funderIdentifierType = 'Crossref Funder' or @funderIdentifierType = 'GRID' or @funderIdentifierType = 'ISNI'">
            <xsl:value-of select="@funderIdentifierType"/>
          </xsl:when>
          <xsl:otherwise>Other</xsl:otherwise>
        </xsl:choose>
      </xsl:attribute>
      <xsl:value-of select="."/>
    </datacite:funderIdentifier>
  </xsl:template>

  <xsl:template match="c2:awardNumber" mode="v1">
    <datacite:awardNumber><xsl:copy-of select="@awardURI"/><xsl:value-of select="."/></datacite:awardNumber>
  </xsl:template>

  <xsl:template match="c2:URI" mode="v1">
    <jpcoar:URI>
      <xsl:copy-of select="@label | @objectType[. != 'iiif']"/>
      <xsl:value-of select="."/>
    </jpcoar:URI>
  </xsl:template>

</xsl:stylesheet>
