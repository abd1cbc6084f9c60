<?xml version="1.0" encoding="UTF-8"?>
<!--
  canonical (JPCOAR 2.0) -> oai_dc, valid against oai_dc.xsd (simple Dublin Core, every element repeatable, xml:lang
  allowed).  Choices, following the DRIVER/OpenAIRE conventions that harvesters of oai_dc expect:
    dc:creator / dc:contributor   creatorName (or "familyName, givenName") per language
    dc:rights                     the access right as an info:eu-repo term (vocab/coar_access_rights.xml), then the
                                  licence text and its URL
    dc:date                       each datacite:date and dcterms:date, plus info:eu-repo/date/embargoEnd/<Available> for
                                  embargoed records
    dc:type                       the JPCOAR resource-type term
    dc:identifier                 jpcoar:identifier values
    dc:relation                   related identifiers (or titles), and each grant as
                                  info:eu-repo/grantAgreement/<funder>/<funding stream>/<award number>
    dc:coverage                   dcterms:temporal and geoLocationPlace
    dc:format                     jpcoar:format, dcterms:extent and file MIME types
    dc:source                     jpcoar:sourceTitle
-->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:jpcoar="https://github.com/JPCOAR/schema/blob/master/2.0/"
    xmlns:dcterms="http://purl.org/dc/terms/"
    xmlns:datacite="https://schema.datacite.org/meta/kernel-4/"
    xmlns:dcndl="http://ndl.go.jp/dcndl/terms/"
    xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
    exclude-result-prefixes="jpcoar dcterms datacite dcndl rdf">
  <xsl:output method="xml" encoding="UTF-8" indent="no"/>
  <xsl:param name="schema_location" select="''"/>

  <xsl:variable name="RIGHTS" select="document('vocab/coar_access_rights.xml')/vocab"/>

  <xsl:template match="/jpcoar:jpcoar">
    <oai_dc:dc>
      <xsl:if test="$schema_location != ''">
        <xsl:attribute name="xsi:schemaLocation"><xsl:value-of select="$schema_location"/></xsl:attribute>
      </xsl:if>
      <xsl:for-each select="dc:title">
        <dc:title><xsl:copy-of select="@xml:lang"/><xsl:value-of select="."/></dc:title>
      </xsl:for-each>
      <xsl:for-each select="jpcoar:creator/jpcoar:creatorName | jpcoar:creator[not(jpcoar:creatorName)]/jpcoar:familyName">
        <dc:creator><xsl:copy-of select="@xml:lang"/><xsl:call-template name="agent"/></dc:creator>
      </xsl:for-each>
      <xsl:for-each select="dc:subject | jpcoar:subject">
        <dc:subject><xsl:copy-of select="@xml:lang"/><xsl:value-of select="."/></dc:subject>
      </xsl:for-each>
      <xsl:for-each select="datacite:description">
        <dc:description><xsl:copy-of select="@xml:lang"/><xsl:value-of select="."/></dc:description>
      </xsl:for-each>
      <xsl:for-each select="dc:publisher | jpcoar:publisher/jpcoar:publisherName">
        <dc:publisher><xsl:copy-of select="@xml:lang"/><xsl:value-of select="."/></dc:publisher>
      </xsl:for-each>
      <xsl:for-each select="jpcoar:contributor/jpcoar:contributorName | jpcoar:contributor[not(jpcoar:contributorName)]/jpcoar:familyName">
        <dc:contributor><xsl:copy-of select="@xml:lang"/><xsl:call-template name="agent"/></dc:contributor>
      </xsl:for-each>
      <xsl:for-each select="datacite:date | dcterms:date">
        <dc:date><xsl:value-of select="."/></dc:date>
      </xsl:for-each>
      <xsl:if test="dcterms:accessRights/@rdf:resource = $RIGHTS/right[@key = 'embargoed']/@uri or normalize-space(dcterms:accessRights) = 'embargoed access'">
        <xsl:for-each select="datacite:date[@dateType = 'Available'][1]">
          <dc:date><xsl:value-of select="concat('info:eu-repo/date/embargoEnd/', .)"/></dc:date>
        </xsl:for-each>
      </xsl:if>
      <xsl:for-each select="dc:type">
        <dc:type><xsl:value-of select="."/></dc:type>
      </xsl:for-each>
      <xsl:for-each select="jpcoar:format | dcterms:extent | jpcoar:file/jpcoar:mimeType">
        <dc:format><xsl:value-of select="."/></dc:format>
      </xsl:for-each>
      <xsl:for-each select="jpcoar:identifier">
        <dc:identifier><xsl:value-of select="."/></dc:identifier>
      </xsl:for-each>
      <xsl:for-each select="jpcoar:sourceTitle">
        <dc:source><xsl:copy-of select="@xml:lang"/><xsl:value-of select="."/></dc:source>
      </xsl:for-each>
      <xsl:for-each select="dc:language">
        <dc:language><xsl:value-of select="."/></dc:language>
      </xsl:for-each>
      <xsl:for-each select="jpcoar:relation">
        <xsl:choose>
          <xsl:when test="jpcoar:relatedIdentifier"><dc:relation><xsl:value-of select="jpcoar:relatedIdentifier"/></dc:relation></xsl:when>
          <xsl:otherwise>
            <xsl:for-each select="jpcoar:relatedTitle[1]"><dc:relation><xsl:copy-of select="@xml:lang"/><xsl:value-of select="."/></dc:relation></xsl:for-each>
          </xsl:otherwise>
        </xsl:choose>
      </xsl:for-each>
      <xsl:for-each select="jpcoar:fundingReference[jpcoar:awardNumber]">
        <xsl:variable name="funder">
          <xsl:choose>
            <xsl:when test="jpcoar:funderIdentifier"><xsl:value-of select="jpcoar:funderIdentifier"/></xsl:when>
            <xsl:when test="jpcoar:funderName[@xml:lang = 'en']"><xsl:value-of select="jpcoar:funderName[@xml:lang = 'en']"/></xsl:when>
            <xsl:otherwise><xsl:value-of select="jpcoar:funderName"/></xsl:otherwise>
          </xsl:choose>
        </xsl:variable>
        <dc:relation><xsl:value-of select="concat('info:eu-repo/grantAgreement/', translate($funder, '/', '-'), '/', translate(jpcoar:fundingStreamIdentifier, '/', '-'), '/', jpcoar:awardNumber)"/></dc:relation>
      </xsl:for-each>
      <xsl:for-each select="dcterms:temporal | datacite:geoLocation/datacite:geoLocationPlace">
        <dc:coverage><xsl:copy-of select="@xml:lang"/><xsl:value-of select="."/></dc:coverage>
      </xsl:for-each>
      <xsl:for-each select="dcterms:accessRights">
        <xsl:variable name="uri" select="@rdf:resource"/>
        <xsl:variable name="label" select="normalize-space(.)"/>
        <dc:rights><xsl:value-of select="($RIGHTS/right[@uri = $uri] | $RIGHTS/right[not($RIGHTS/right[@uri = $uri])][@label = $label])[1]/@eurepo"/></dc:rights>
      </xsl:for-each>
      <xsl:for-each select="dc:rights">
        <xsl:if test="normalize-space(.)"><dc:rights><xsl:copy-of select="@xml:lang"/><xsl:value-of select="."/></dc:rights></xsl:if>
        <xsl:if test="normalize-space(@rdf:resource) and normalize-space(@rdf:resource) != normalize-space(.)"><dc:rights><xsl:value-of select="@rdf:resource"/></dc:rights></xsl:if>
      </xsl:for-each>
    </oai_dc:dc>
  </xsl:template>

  <!-- One dc:creator / dc:contributor per name of the person (the loops above choose them): each full name, else each
       familyName as "familyName, givenName" with the givenName of its language.  The context is that name. -->
  <xsl:template name="agent">
    <xsl:value-of select="."/>
    <xsl:if test="self::jpcoar:familyName">
      <xsl:variable name="lang" select="string(@xml:lang)"/>
      <xsl:variable name="given" select="../jpcoar:givenName[string(@xml:lang) = $lang][1]"/>
      <xsl:if test="$given"><xsl:value-of select="concat(', ', $given)"/></xsl:if>
    </xsl:if>
  </xsl:template>
</xsl:stylesheet>
