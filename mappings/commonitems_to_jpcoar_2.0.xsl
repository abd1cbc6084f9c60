<?xml version="1.0" encoding="UTF-8"?>
<!--
  common items -> JPCOAR 2.0.
  Input: one <ci:record> of the gateway's intermediate "common items" document (namespace urn:x-gateway:common-items:2024),
  written by gateway/commonitems.py from a GakuNin RDM export or a metadata spreadsheet after its values were resolved
  against mappings/commonitems/values.toml (labels, codes, URIs).  Output: a JPCOAR 2.0 record carrying the Annex-3
  items where DESIGN section 4 puts them.  Element order does not matter here: the jpcoar_2.0 input stylesheet rebuilds
  the record in schema order when the pipeline maps it.
  Not mapped on purpose: remarks (never in the input: they are private), the repository name (the gateway supplies it),
  the structured contact details (the contact is published as the free text in <ci:contact>).
-->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:ci="urn:x-gateway:common-items:2024"
    xmlns:jpcoar="https://github.com/JPCOAR/schema/blob/master/2.0/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:dcterms="http://purl.org/dc/terms/"
    xmlns:datacite="https://schema.datacite.org/meta/kernel-4/"
    xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
    exclude-result-prefixes="ci">

  <xsl:output method="xml" encoding="UTF-8" indent="no"/>

  <xsl:template match="/">
    <xsl:if test="not(ci:record)">
      <xsl:message terminate="yes">not a common-items record: the root element is {<xsl:value-of select="namespace-uri(*)"/>}<xsl:value-of select="local-name(*)"/></xsl:message>
    </xsl:if>
    <xsl:apply-templates select="ci:record"/>
  </xsl:template>

  <xsl:template match="ci:record">
    <jpcoar:jpcoar>
      <xsl:for-each select="ci:title">
        <dc:title xml:lang="{@xml:lang}"><xsl:value-of select="."/></dc:title>
      </xsl:for-each>
      <xsl:for-each select="ci:creator">
        <jpcoar:creator>
          <xsl:for-each select="ci:erad">
            <jpcoar:nameIdentifier nameIdentifierScheme="e-Rad_Researcher"><xsl:value-of select="."/></jpcoar:nameIdentifier>
          </xsl:for-each>
          <xsl:for-each select="ci:name">
            <jpcoar:creatorName xml:lang="{@xml:lang}"><xsl:value-of select="."/></jpcoar:creatorName>
          </xsl:for-each>
        </jpcoar:creator>
      </xsl:for-each>
      <xsl:for-each select="ci:hostingInstitution">
        <jpcoar:contributor contributorType="HostingInstitution">
          <xsl:for-each select="ci:ror">
            <jpcoar:nameIdentifier nameIdentifierScheme="ROR" nameIdentifierURI="{.}"><xsl:value-of select="."/></jpcoar:nameIdentifier>
          </xsl:for-each>
          <xsl:for-each select="ci:name">
            <jpcoar:contributorName xml:lang="{@xml:lang}" nameType="Organizational"><xsl:value-of select="."/></jpcoar:contributorName>
          </xsl:for-each>
        </jpcoar:contributor>
      </xsl:for-each>
      <xsl:for-each select="ci:dataManager">
        <jpcoar:contributor contributorType="DataManager">
          <xsl:for-each select="ci:erad">
            <jpcoar:nameIdentifier nameIdentifierScheme="e-Rad_Researcher"><xsl:value-of select="."/></jpcoar:nameIdentifier>
          </xsl:for-each>
          <xsl:for-each select="ci:name">
            <jpcoar:contributorName xml:lang="{@xml:lang}"><xsl:value-of select="."/></jpcoar:contributorName>
          </xsl:for-each>
        </jpcoar:contributor>
      </xsl:for-each>
      <xsl:if test="ci:contact">
        <jpcoar:contributor contributorType="ContactPerson">
          <xsl:for-each select="ci:contact">
            <jpcoar:contributorName xml:lang="{@xml:lang}"><xsl:value-of select="."/></jpcoar:contributorName>
          </xsl:for-each>
        </jpcoar:contributor>
      </xsl:if>
      <xsl:for-each select="ci:access">
        <dcterms:accessRights rdf:resource="{@uri}"><xsl:value-of select="."/></dcterms:accessRights>
      </xsl:for-each>
      <xsl:for-each select="ci:rights">
        <dc:rights xml:lang="{@xml:lang}">
          <xsl:if test="@uri"><xsl:attribute name="rdf:resource"><xsl:value-of select="@uri"/></xsl:attribute></xsl:if>
          <xsl:value-of select="."/>
        </dc:rights>
      </xsl:for-each>
      <xsl:for-each select="ci:field">
        <jpcoar:subject xml:lang="{@xml:lang}" subjectScheme="e-Rad_field"><xsl:value-of select="."/></jpcoar:subject>
      </xsl:for-each>
      <xsl:for-each select="ci:description">
        <datacite:description xml:lang="{@xml:lang}" descriptionType="Abstract"><xsl:value-of select="."/></datacite:description>
      </xsl:for-each>
      <xsl:for-each select="ci:issued">
        <datacite:date dateType="Issued"><xsl:value-of select="."/></datacite:date>
      </xsl:for-each>
      <xsl:for-each select="ci:available">
        <datacite:date dateType="Available"><xsl:value-of select="."/></datacite:date>
      </xsl:for-each>
      <xsl:for-each select="ci:dataType">
        <dc:type rdf:resource="{@uri}"><xsl:value-of select="."/></dc:type>
      </xsl:for-each>
      <xsl:for-each select="ci:link">
        <jpcoar:identifier identifierType="{@type}"><xsl:value-of select="."/></jpcoar:identifier>
      </xsl:for-each>
      <xsl:for-each select="ci:dataNumber">
        <jpcoar:relation relationType="isIdenticalTo">
          <jpcoar:relatedIdentifier identifierType="Local"><xsl:value-of select="."/></jpcoar:relatedIdentifier>
        </jpcoar:relation>
      </xsl:for-each>
      <xsl:if test="ci:funder or ci:fundingStreamCode or ci:program or ci:grantNumber or ci:project">
        <jpcoar:fundingReference>
          <xsl:for-each select="ci:funder[@code]">
            <jpcoar:funderIdentifier funderIdentifierType="e-Rad_funder"><xsl:value-of select="@code"/></jpcoar:funderIdentifier>
          </xsl:for-each>
          <xsl:for-each select="ci:funder/ci:name">
            <jpcoar:funderName xml:lang="{@xml:lang}"><xsl:value-of select="."/></jpcoar:funderName>
          </xsl:for-each>
          <xsl:for-each select="ci:fundingStreamCode">
            <jpcoar:fundingStreamIdentifier fundingStreamIdentifierType="JGN_fundingStream"><xsl:value-of select="."/></jpcoar:fundingStreamIdentifier>
          </xsl:for-each>
          <xsl:for-each select="ci:program">
            <jpcoar:fundingStream xml:lang="{@xml:lang}"><xsl:value-of select="."/></jpcoar:fundingStream>
          </xsl:for-each>
          <xsl:for-each select="ci:grantNumber">
            <jpcoar:awardNumber awardNumberType="JGN"><xsl:value-of select="."/></jpcoar:awardNumber>
          </xsl:for-each>
          <xsl:for-each select="ci:project">
            <jpcoar:awardTitle xml:lang="{@xml:lang}"><xsl:value-of select="."/></jpcoar:awardTitle>
          </xsl:for-each>
        </jpcoar:fundingReference>
      </xsl:if>
      <xsl:if test="ci:size">
        <jpcoar:file>
          <jpcoar:extent><xsl:value-of select="ci:size"/></jpcoar:extent>
        </jpcoar:file>
      </xsl:if>
    </jpcoar:jpcoar>
  </xsl:template>

</xsl:stylesheet>
