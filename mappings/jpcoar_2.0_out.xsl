<?xml version="1.0" encoding="UTF-8"?>
<!--
  canonical -> jpcoar_2.0.  The canonical record is already a valid JPCOAR 2.0 document; the published form only adds
  xsi:schemaLocation (the gateway passes "namespace schema-URL" from formats.toml as $schema_location).
-->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <xsl:output method="xml" encoding="UTF-8" indent="no"/>
  <xsl:param name="schema_location" select="''"/>

  <xsl:template match="/*">
    <xsl:copy>
      <xsl:copy-of select="@*"/>
      <xsl:if test="$schema_location != ''">
        <xsl:attribute name="xsi:schemaLocation"><xsl:value-of select="$schema_location"/></xsl:attribute>
      </xsl:if>
      <xsl:copy-of select="node()"/>
    </xsl:copy>
  </xsl:template>
</xsl:stylesheet>
