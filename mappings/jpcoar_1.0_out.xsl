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


  <!-- The two defaults above, written out for the elements records have.  An element named at run time
       (xsl:element name="{...}") has its name compiled again each time it is written, which costs more than the rest
       of the copy; any element not listed here is still renamed or copied by the defaults. -->
  <xsl:template match="c2:affiliation" mode="v1"><jpcoar:affiliation><xsl:copy-of select="@*"/><xsl:apply-templates select="*|text()" mode="v1"/></jpcoar:affiliation></xsl:template>
  <xsl:template match="c2:affiliationName" mode="v1"><jpcoar:affiliationName><xsl:copy-of select="@*"/><xsl:apply-templates select="*|text()" mode="v1"/></jpcoar:affiliationName></xsl:template>
  <xsl:template match="c2:awardTitle" mode="v1"><jpcoar:awardTitle><xsl:copy-of select="@*"/><xsl:apply-templates select="*|text()" mode="v1"/></jpcoar:awardTitle></xsl:template>
  <xsl:template match="c2:conference" mode="v1"><jpcoar:conference><xsl:copy-of select="@*"/><xsl:apply-templates select="*|text()" mode="v1"/></jpcoar:conference></xsl:template>
  <xsl:template match="c2:conferenceCountry" mode="v1"><jpcoar:conferenceCountry><xsl:copy-of select="@*"/><xsl:apply-templates select="*|text()" mode="v1"/></jpcoar:conferenceCountry></xsl:template>
  <xsl:template match="c2:conferenceDate" mode="v1"><jpcoar:conferenceDate><xsl:copy-of select="@*"/><xsl:apply-templates select="*|text()" mode="v1"/></jpcoar:conferenceDate></xsl:template>
  <xsl:template match="c2:conferenceName" mode="v1"><jpcoar:conferenceName><xsl:copy-of select="@*"/><xsl:apply-templates select="*|text()" mode="v1"/></jpcoar:conferenceName></xsl:template>
  <xsl:template match="c2:conferencePlace" mode="v1"><jpcoar:conferencePlace><xsl:copy-of select="@*"/><xsl:apply-templates select="*|text()" mode="v1"/></jpcoar:conferencePlace></xsl:template>
  <xsl:template match="c2:conferenceSequence" mode="v1"><jpcoar:conferenceSequence><xsl:copy-of select="@*"/><xsl:apply-templates select="*|text()" mode="v1"/></jpcoar:conferenceSequence></xsl:template>
  <xsl:template match="c2:conferenceSponsor" mode="v1"><jpcoar:conferenceSponsor><xsl:copy-of select="@*"/><xsl:apply-templates select="*|text()" mode="v1"/></jpcoar:conferenceSponsor></xsl:template>
  <xsl:template match="c2:conferenceVenue" mode="v1"><jpcoar:conferenceVenue><xsl:copy-of select="@*"/><xsl:apply-templates select="*|text()" mode="v1"/></jpcoar:conferenceVenue></xsl:template>
  <xsl:template match="c2:contributor" mode="v1"><jpcoar:contributor><xsl:copy-of select="@*"/><xsl:apply-templates select="*|text()" mode="v1"/></jpcoar:contributor></xsl:template>
  <xsl:template match="c2:contributorAlternative" mode="v1"><jpcoar:contributorAlternative><xsl:copy-of select="@*"/><xsl:apply-templates select="*|text()" mode="v1"/></jpcoar:contributorAlternative></xsl:template>
  <xsl:template match="c2:creatorAlternative" mode="v1"><jpcoar:creatorAlternative><xsl:copy-of select="@*"/><xsl:apply-templates select="*|text()" mode="v1"/></jpcoar:creatorAlternative></xsl:template>
  <xsl:template match="c2:degreeGrantor" mode="v1"><jpcoar:degreeGrantor><xsl:copy-of select="@*"/><xsl:apply-templates select="*|text()" mode="v1"/></jpcoar:degreeGrantor></xsl:template>
  <xsl:template match="c2:degreeGrantorName" mode="v1"><jpcoar:degreeGrantorName><xsl:copy-of select="@*"/><xsl:apply-templates select="*|text()" mode="v1"/></jpcoar:degreeGrantorName></xsl:template>
  <xsl:template match="c2:extent" mode="v1"><jpcoar:extent><xsl:copy-of select="@*"/><xsl:apply-templates select="*|text()" mode="v1"/></jpcoar:extent></xsl:template>
  <xsl:template match="c2:familyName" mode="v1"><jpcoar:familyName><xsl:copy-of select="@*"/><xsl:apply-templates select="*|text()" mode="v1"/></jpcoar:familyName></xsl:template>
  <xsl:template match="c2:file" mode="v1"><jpcoar:file><xsl:copy-of select="@*"/><xsl:apply-templates select="*|text()" mode="v1"/></jpcoar:file></xsl:template>
  <xsl:template match="c2:funderName" mode="v1"><jpcoar:funderName><xsl:copy-of select="@*"/><xsl:apply-templates select="*|text()" mode="v1"/></jpcoar:funderName></xsl:template>
  <xsl:template match="c2:fundingReference" mode="v1"><jpcoar:fundingReference><xsl:copy-of select="@*"/><xsl:apply-templates select="*|text()" mode="v1"/></jpcoar:fundingReference></xsl:template>
  <xsl:template match="c2:givenName" mode="v1"><jpcoar:givenName><xsl:copy-of select="@*"/><xsl:apply-templates select="*|text()" mode="v1"/></jpcoar:givenName></xsl:template>
  <xsl:template match="c2:identifier" mode="v1"><jpcoar:identifier><xsl:copy-of select="@*"/><xsl:apply-templates select="*|text()" mode="v1"/></jpcoar:identifier></xsl:template>
  <xsl:template match="c2:identifierRegistration" mode="v1"><jpcoar:identifierRegistration><xsl:copy-of select="@*"/><xsl:apply-templates select="*|text()" mode="v1"/></jpcoar:identifierRegistration></xsl:template>
  <xsl:template match="c2:issue" mode="v1"><jpcoar:issue><xsl:copy-of select="@*"/><xsl:apply-templates select="*|text()" mode="v1"/></jpcoar:issue></xsl:template>
  <xsl:template match="c2:mimeType" mode="v1"><jpcoar:mimeType><xsl:copy-of select="@*"/><xsl:apply-templates select="*|text()" mode="v1"/></jpcoar:mimeType></xsl:template>
  <xsl:template match="c2:nameIdentifier" mode="v1"><jpcoar:nameIdentifier><xsl:copy-of select="@*"/><xsl:apply-templates select="*|text()" mode="v1"/></jpcoar:nameIdentifier></xsl:template>
  <xsl:template match="c2:numPages" mode="v1"><jpcoar:numPages><xsl:copy-of select="@*"/><xsl:apply-templates select="*|text()" mode="v1"/></jpcoar:numPages></xsl:template>
  <xsl:template match="c2:pageEnd" mode="v1"><jpcoar:pageEnd><xsl:copy-of select="@*"/><xsl:apply-templates select="*|text()" mode="v1"/></jpcoar:pageEnd></xsl:template>
  <xsl:template match="c2:pageStart" mode="v1"><jpcoar:pageStart><xsl:copy-of select="@*"/><xsl:apply-templates select="*|text()" mode="v1"/></jpcoar:pageStart></xsl:template>
  <xsl:template match="c2:relatedIdentifier" mode="v1"><jpcoar:relatedIdentifier><xsl:copy-of select="@*"/><xsl:apply-templates select="*|text()" mode="v1"/></jpcoar:relatedIdentifier></xsl:template>
  <xsl:template match="c2:relatedTitle" mode="v1"><jpcoar:relatedTitle><xsl:copy-of select="@*"/><xsl:apply-templates select="*|text()" mode="v1"/></jpcoar:relatedTitle></xsl:template>
  <xsl:template match="c2:rightsHolder" mode="v1"><jpcoar:rightsHolder><xsl:copy-of select="@*"/><xsl:apply-templates select="*|text()" mode="v1"/></jpcoar:rightsHolder></xsl:template>
  <xsl:template match="c2:rightsHolderName" mode="v1"><jpcoar:rightsHolderName><xsl:copy-of select="@*"/><xsl:apply-templates select="*|text()" mode="v1"/></jpcoar:rightsHolderName></xsl:template>
  <xsl:template match="c2:sourceIdentifier" mode="v1"><jpcoar:sourceIdentifier><xsl:copy-of select="@*"/><xsl:apply-templates select="*|text()" mode="v1"/></jpcoar:sourceIdentifier></xsl:template>
  <xsl:template match="c2:sourceTitle" mode="v1"><jpcoar:sourceTitle><xsl:copy-of select="@*"/><xsl:apply-templates select="*|text()" mode="v1"/></jpcoar:sourceTitle></xsl:template>
  <xsl:template match="c2:volume" mode="v1"><jpcoar:volume><xsl:copy-of select="@*"/><xsl:apply-templates select="*|text()" mode="v1"/></jpcoar:volume></xsl:template>
  <xsl:template match="dc:title" mode="v1"><dc:title><xsl:copy-of select="@*"/><xsl:apply-templates select="*|text()" mode="v1"/></dc:title></xsl:template>
  <xsl:template match="dcterms:alternative" mode="v1"><dcterms:alternative><xsl:copy-of select="@*"/><xsl:apply-templates select="*|text()" mode="v1"/></dcterms:alternative></xsl:template>
  <xsl:template match="dc:rights" mode="v1"><dc:rights><xsl:copy-of select="@*"/><xsl:apply-templates select="*|text()" mode="v1"/></dc:rights></xsl:template>
  <xsl:template match="datacite:description" mode="v1"><datacite:description><xsl:copy-of select="@*"/><xsl:apply-templates select="*|text()" mode="v1"/></datacite:description></xsl:template>
  <xsl:template match="dc:language" mode="v1"><dc:language><xsl:copy-of select="@*"/><xsl:apply-templates select="*|text()" mode="v1"/></dc:language></xsl:template>
  <xsl:template match="datacite:version" mode="v1"><datacite:version><xsl:copy-of select="@*"/><xsl:apply-templates select="*|text()" mode="v1"/></datacite:version></xsl:template>
  <xsl:template match="oaire:version" mode="v1"><oaire:version><xsl:copy-of select="@*"/><xsl:apply-templates select="*|text()" mode="v1"/></oaire:version></xsl:template>
  <xsl:template match="dcterms:temporal" mode="v1"><dcterms:temporal><xsl:copy-of select="@*"/><xsl:apply-templates select="*|text()" mode="v1"/></dcterms:temporal></xsl:template>
  <xsl:template match="datacite:geoLocation" mode="v1"><datacite:geoLocation><xsl:copy-of select="@*"/><xsl:apply-templates select="*|text()" mode="v1"/></datacite:geoLocation></xsl:template>
  <xsl:template match="datacite:geoLocationPoint" mode="v1"><datacite:geoLocationPoint><xsl:copy-of select="@*"/><xsl:apply-templates select="*|text()" mode="v1"/></datacite:geoLocationPoint></xsl:template>
  <xsl:template match="datacite:pointLongitude" mode="v1"><datacite:pointLongitude><xsl:copy-of select="@*"/><xsl:apply-templates select="*|text()" mode="v1"/></datacite:pointLongitude></xsl:template>
  <xsl:template match="datacite:pointLatitude" mode="v1"><datacite:pointLatitude><xsl:copy-of select="@*"/><xsl:apply-templates select="*|text()" mode="v1"/></datacite:pointLatitude></xsl:template>
  <xsl:template match="datacite:geoLocationBox" mode="v1"><datacite:geoLocationBox><xsl:copy-of select="@*"/><xsl:apply-templates select="*|text()" mode="v1"/></datacite:geoLocationBox></xsl:template>
  <xsl:template match="datacite:westBoundLongitude" mode="v1"><datacite:westBoundLongitude><xsl:copy-of select="@*"/><xsl:apply-templates select="*|text()" mode="v1"/></datacite:westBoundLongitude></xsl:template>
  <xsl:template match="datacite:eastBoundLongitude" mode="v1"><datacite:eastBoundLongitude><xsl:copy-of select="@*"/><xsl:apply-templates select="*|text()" mode="v1"/></datacite:eastBoundLongitude></xsl:template>
  <xsl:template match="datacite:southBoundLatitude" mode="v1"><datacite:southBoundLatitude><xsl:copy-of select="@*"/><xsl:apply-templates select="*|text()" mode="v1"/></datacite:southBoundLatitude></xsl:template>
  <xsl:template match="datacite:northBoundLatitude" mode="v1"><datacite:northBoundLatitude><xsl:copy-of select="@*"/><xsl:apply-templates select="*|text()" mode="v1"/></datacite:northBoundLatitude></xsl:template>
  <xsl:template match="datacite:geoLocationPlace" mode="v1"><datacite:geoLocationPlace><xsl:copy-of select="@*"/><xsl:apply-templates select="*|text()" mode="v1"/></datacite:geoLocationPlace></xsl:template>
  <xsl:template match="dcndl:dissertationNumber" mode="v1"><dcndl:dissertationNumber><xsl:copy-of select="@*"/><xsl:apply-templates select="*|text()" mode="v1"/></dcndl:dissertationNumber></xsl:template>
  <xsl:template match="dcndl:degreeName" mode="v1"><dcndl:degreeName><xsl:copy-of select="@*"/><xsl:apply-templates select="*|text()" mode="v1"/></dcndl:degreeName></xsl:template>
  <xsl:template match="dcndl:dateGranted" mode="v1"><dcndl:dateGranted><xsl:copy-of select="@*"/><xsl:apply-templates select="*|text()" mode="v1"/></dcndl:dateGranted></xsl:template>

  <xsl:template match="dcterms:date | dcndl:edition | dcndl:volumeTitle | dcndl:originalLanguage | dcterms:extent
                       | c2:format | c2:holdingAgent | c2:datasetSeries | c2:catalog
                       | c2:fundingStreamIdentifier | c2:fundingStream
                       | c2:nameIdentifier[@nameIdentifierScheme = 'ROR']
                       | c2:relatedIdentifier[@identifierType = 'CRID' or @identifierType = 'ISSN' or @identifierType = 'NCID']" mode="v1"/>

  <xsl:template match="c2:creator" mode="v1">
    <jpcoar:creator><xsl:apply-templates select="*" mode="v1"/></jpcoar:creator>
  </xsl:template>

  <xsl:template match="c2:creatorName" mode="v1">
    <jpcoar:creatorName><xsl:copy-of select="@xml:lang"/><xsl:value-of select="."/></jpcoar:creatorName>
  </xsl:template>
  <xsl:template match="c2:contributorName" mode="v1">
    <jpcoar:contributorName><xsl:copy-of select="@xml:lang"/><xsl:value-of select="."/></jpcoar:contributorName>
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
    <!-- the start of a range, without its time -->
    <xsl:variable name="start" select="substring-before(concat($v, '/'), '/')"/>
    <xsl:variable name="day" select="substring-before(concat($start, 'T'), 'T')"/>
    <!-- a year, a year-month or a date, by its shape and the month and day numbers first, regexp:test for the rest -->
    <xsl:variable name="shape" select="translate($day, '123456789', '000000000')"/>
    <xsl:if test="$shape = '0000'
                  or (($shape = '0000-00' or $shape = '0000-00-00') and substring($day, 6, 2) &gt;= 1 and substring($day, 6, 2) &lt;= 12
                      and ($shape = '0000-00' or (substring($day, 9, 2) &gt;= 1 and substring($day, 9, 2) &lt;= 31)))
                  or regexp:test($day, '^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$')">
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
