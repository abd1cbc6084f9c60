<?xml version="1.0" encoding="UTF-8"?>
<!--
  oai_dc -> canonical (JPCOAR 2.0).
  Each Dublin Core element is first given its JPCOAR shape (below); lib/jpcoar2_build.xsl then writes them in schema
  order and resolves the vocabularies:
    dc:title        -> dc:title
    dc:creator      -> jpcoar:creator/jpcoar:creatorName    (values that are only digits are skipped: WEKO3 leaks
    dc:contributor  -> jpcoar:contributor/...Name             creator identifiers into oai_dc as extra dc:creator)
    dc:subject      -> jpcoar:subject subjectScheme="Other"
    dc:description  -> datacite:description descriptionType="Abstract"
    dc:publisher    -> dc:publisher
    dc:date         -> datacite:date: the first plain date is Issued, info:eu-repo/date/embargoEnd/... is Available,
                       the other dates (DSpace's accession timestamps, ...) are kept as dcterms:date
    dc:type         -> dc:type through vocab/coar_resource_types.xml (unknown: other, c_1843); the info:eu-repo
                       version terms -> oaire:version through vocab/coar_versions.xml
    dc:identifier   -> jpcoar:identifier, identifierType DOI / HDL / URI by the form of the value (doi:, hdl:, bare
                       10.x/ are written as resolver URLs); if no value looks like an identifier of the record, the first
                       dc:identifier, else the first URL in dc:relation, stands in (jpcoar:identifier is required)
    dc:rights       -> dcterms:accessRights when it names an access right (vocab/coar_access_rights.xml, e.g.
                       info:eu-repo/semantics/openAccess), dc:rights otherwise (a URL becomes rdf:resource)
    dc:language     -> dc:language (ISO 639-2 through vocab/languages.xml)
    dc:relation     -> jpcoar:relation (relatedIdentifier when it is an identifier, relatedTitle otherwise)
    dc:coverage     -> dcterms:temporal
    dc:format       -> jpcoar:format
    dc:source       -> jpcoar:sourceTitle
-->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:exsl="http://exslt.org/common"
    xmlns:regexp="http://exslt.org/regular-expressions"
    xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/"
    xmlns:jpcoar="https://github.com/JPCOAR/schema/blob/master/2.0/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:dcterms="http://purl.org/dc/terms/"
    xmlns:datacite="https://schema.datacite.org/meta/kernel-4/"
    xmlns:oaire="http://namespace.openaire.eu/schema/oaire/"
    xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
    exclude-result-prefixes="exsl regexp oai_dc">

  <xsl:import href="lib/jpcoar2_build.xsl"/>
  <xsl:output method="xml" encoding="UTF-8" indent="no"/>

  <xsl:template match="/">
    <xsl:if test="not(oai_dc:dc)">
      <xsl:message terminate="yes">not an oai_dc record: the root element is {<xsl:value-of select="namespace-uri(*)"/>}<xsl:value-of select="local-name(*)"/></xsl:message>
    </xsl:if>
    <xsl:variable name="shaped">
      <jpcoar:jpcoar>
        <xsl:apply-templates select="oai_dc:dc/*" mode="dc"/>
        <xsl:call-template name="identifier-fallback"/>
      </jpcoar:jpcoar>
    </xsl:variable>
    <xsl:apply-templates select="exsl:node-set($shaped)/*" mode="jp2-root"/>
  </xsl:template>

  <xsl:template match="*" mode="dc"/>

  <xsl:template match="dc:title" mode="dc">
    <dc:title><xsl:call-template name="element-lang"/><xsl:value-of select="normalize-space(.)"/></dc:title>
  </xsl:template>

  <xsl:template match="dc:creator[not(regexp:test(normalize-space(.), '^[0-9]+$'))]" mode="dc">
    <jpcoar:creator><jpcoar:creatorName><xsl:call-template name="element-lang"/><xsl:value-of select="normalize-space(.)"/></jpcoar:creatorName></jpcoar:creator>
  </xsl:template>

  <xsl:template match="dc:contributor[not(regexp:test(normalize-space(.), '^[0-9]+$'))]" mode="dc">
    <jpcoar:contributor><jpcoar:contributorName><xsl:call-template name="element-lang"/><xsl:value-of select="normalize-space(.)"/></jpcoar:contributorName></jpcoar:contributor>
  </xsl:template>

  <xsl:template match="dc:subject" mode="dc">
    <jpcoar:subject subjectScheme="Other"><xsl:call-template name="element-lang"/><xsl:value-of select="normalize-space(.)"/></jpcoar:subject>
  </xsl:template>

  <xsl:template match="dc:description" mode="dc">
    <datacite:description descriptionType="Abstract"><xsl:call-template name="element-lang"/><xsl:value-of select="."/></datacite:description>
  </xsl:template>

  <xsl:template match="dc:publisher" mode="dc">
    <dc:publisher><xsl:call-template name="element-lang"/><xsl:value-of select="normalize-space(.)"/></dc:publisher>
  </xsl:template>

  <xsl:template match="dc:date" mode="dc">
    <xsl:variable name="v" select="normalize-space(.)"/>
    <xsl:variable name="plain" select="../dc:date[not(starts-with(normalize-space(.), 'info:')) and not(contains(., 'T'))][1]"/>
    <xsl:variable name="issued" select="$plain | ../dc:date[not($plain)][not(starts-with(normalize-space(.), 'info:'))][1]"/>
    <xsl:choose>
      <xsl:when test="starts-with($v, 'info:eu-repo/date/embargoEnd/')">
        <datacite:date dateType="Available"><xsl:value-of select="substring-after($v, 'info:eu-repo/date/embargoEnd/')"/></datacite:date>
      </xsl:when>
      <xsl:when test="starts-with($v, 'info:')"/>
      <xsl:when test="generate-id(.) = generate-id($issued)">
        <datacite:date dateType="Issued"><xsl:value-of select="$v"/></datacite:date>
      </xsl:when>
      <xsl:otherwise><dcterms:date><xsl:value-of select="$v"/></dcterms:date></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:template match="dc:type" mode="dc">
    <xsl:variable name="lc" select="translate(normalize-space(.), $UC, $LC)"/>
    <xsl:choose>
      <xsl:when test="$VERSIONS/version/alias[starts-with(., 'info:')] = $lc">
        <oaire:version><xsl:value-of select="normalize-space(.)"/></oaire:version>
      </xsl:when>
      <xsl:otherwise><dc:type><xsl:value-of select="normalize-space(.)"/></dc:type></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:template match="dc:format" mode="dc">
    <jpcoar:format><xsl:call-template name="element-lang"/><xsl:value-of select="normalize-space(.)"/></jpcoar:format>
  </xsl:template>

  <xsl:template match="dc:source" mode="dc">
    <jpcoar:sourceTitle><xsl:call-template name="element-lang"/><xsl:value-of select="normalize-space(.)"/></jpcoar:sourceTitle>
  </xsl:template>

  <xsl:template match="dc:language" mode="dc">
    <dc:language><xsl:value-of select="normalize-space(.)"/></dc:language>
  </xsl:template>

  <xsl:template match="dc:coverage" mode="dc">
    <dcterms:temporal><xsl:call-template name="element-lang"/><xsl:value-of select="normalize-space(.)"/></dcterms:temporal>
  </xsl:template>

  <xsl:template match="dc:rights" mode="dc">
    <xsl:variable name="v" select="normalize-space(.)"/>
    <xsl:variable name="lc" select="translate($v, $UC, $LC)"/>
    <xsl:choose>
      <xsl:when test="$RIGHTS/right/@label = $lc or $RIGHTS/right/alias = $lc or $RIGHTS/right/@uri = $v">
        <dcterms:accessRights><xsl:value-of select="$v"/></dcterms:accessRights>
      </xsl:when>
      <xsl:when test="starts-with($lc, 'http://') or starts-with($lc, 'https://')">
        <dc:rights rdf:resource="{$v}"><xsl:call-template name="element-lang"/><xsl:value-of select="$v"/></dc:rights>
      </xsl:when>
      <xsl:otherwise><dc:rights><xsl:call-template name="element-lang"/><xsl:value-of select="."/></dc:rights></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <!-- ============================================================ identifiers -->
  <!-- true when the value names a resource on the web (not an ISBN, a citation, a local number, ...) -->
  <xsl:template name="is-resolvable">
    <xsl:param name="value"/>
    <xsl:variable name="v" select="translate($value, $UC, $LC)"/>
    <xsl:if test="starts-with($v, 'http://') or starts-with($v, 'https://') or starts-with($v, 'doi:') or starts-with($v, 'hdl:')
                  or starts-with($v, 'info:doi/') or starts-with($v, 'info:hdl/') or regexp:test($v, '^10\.\d{4,9}/\S+$')">yes</xsl:if>
  </xsl:template>

  <!-- doi:/hdl:/bare DOI forms are written as resolver URLs, which is how JPCOAR writes jpcoar:identifier -->
  <xsl:template name="resolver-url">
    <xsl:param name="value"/>
    <xsl:variable name="v" select="translate($value, $UC, $LC)"/>
    <xsl:choose>
      <xsl:when test="starts-with($v, 'doi:')"><xsl:value-of select="concat('https://doi.org/', normalize-space(substring($value, 5)))"/></xsl:when>
      <xsl:when test="starts-with($v, 'info:doi/')"><xsl:value-of select="concat('https://doi.org/', substring($value, 10))"/></xsl:when>
      <xsl:when test="regexp:test($v, '^10\.\d{4,9}/')"><xsl:value-of select="concat('https://doi.org/', $value)"/></xsl:when>
      <xsl:when test="starts-with($v, 'hdl:')"><xsl:value-of select="concat('https://hdl.handle.net/', normalize-space(substring($value, 5)))"/></xsl:when>
      <xsl:when test="starts-with($v, 'info:hdl/')"><xsl:value-of select="concat('https://hdl.handle.net/', substring($value, 10))"/></xsl:when>
      <xsl:otherwise><xsl:value-of select="$value"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:template name="jp-identifier">
    <xsl:param name="value"/>
    <xsl:variable name="url"><xsl:call-template name="resolver-url"><xsl:with-param name="value" select="$value"/></xsl:call-template></xsl:variable>
    <jpcoar:identifier>
      <xsl:attribute name="identifierType">
        <xsl:call-template name="identifier-type"><xsl:with-param name="value" select="$url"/></xsl:call-template>
      </xsl:attribute>
      <xsl:value-of select="$url"/>
    </jpcoar:identifier>
  </xsl:template>

  <xsl:template match="dc:identifier" mode="dc">
    <xsl:variable name="v" select="normalize-space(.)"/>
    <xsl:variable name="ok"><xsl:call-template name="is-resolvable"><xsl:with-param name="value" select="$v"/></xsl:call-template></xsl:variable>
    <xsl:if test="$ok = 'yes'">
      <xsl:call-template name="jp-identifier"><xsl:with-param name="value" select="$v"/></xsl:call-template>
    </xsl:if>
  </xsl:template>

  <xsl:template name="identifier-fallback">
    <xsl:variable name="resolvable">
      <xsl:for-each select="oai_dc:dc/dc:identifier">
        <xsl:call-template name="is-resolvable"><xsl:with-param name="value" select="normalize-space(.)"/></xsl:call-template>
      </xsl:for-each>
    </xsl:variable>
    <xsl:if test="$resolvable = ''">
      <xsl:variable name="stand-in" select="(oai_dc:dc/dc:identifier[normalize-space()] | oai_dc:dc/dc:relation[starts-with(normalize-space(.), 'http')])[1]"/>
      <xsl:if test="$stand-in">
        <xsl:call-template name="jp-identifier"><xsl:with-param name="value" select="normalize-space($stand-in)"/></xsl:call-template>
      </xsl:if>
    </xsl:if>
  </xsl:template>

  <xsl:template match="dc:relation" mode="dc">
    <xsl:variable name="v" select="normalize-space(.)"/>
    <xsl:variable name="ok"><xsl:call-template name="is-resolvable"><xsl:with-param name="value" select="$v"/></xsl:call-template></xsl:variable>
    <jpcoar:relation>
      <xsl:choose>
        <xsl:when test="$ok = 'yes'">
          <xsl:variable name="url"><xsl:call-template name="resolver-url"><xsl:with-param name="value" select="$v"/></xsl:call-template></xsl:variable>
          <jpcoar:relatedIdentifier>
            <xsl:attribute name="identifierType">
              <xsl:call-template name="identifier-type"><xsl:with-param name="value" select="$url"/></xsl:call-template>
            </xsl:attribute>
            <xsl:value-of select="$url"/>
          </jpcoar:relatedIdentifier>
        </xsl:when>
        <xsl:otherwise><jpcoar:relatedTitle><xsl:call-template name="element-lang"/><xsl:value-of select="$v"/></jpcoar:relatedTitle></xsl:otherwise>
      </xsl:choose>
    </jpcoar:relation>
  </xsl:template>

</xsl:stylesheet>
