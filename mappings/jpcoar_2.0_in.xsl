<?xml version="1.0" encoding="UTF-8"?>
<!--
  jpcoar_2.0 -> canonical.
  A JPCOAR 2.0 record is already in the canonical vocabulary; this stylesheet normalises it:
    1. every element in a namespace that means JPCOAR (the github 2.0 namespace, the IRDB namespace that WEKO3
       advertises, and the 1.0 namespace for the jpcoar_1.0 stylesheet that imports this one) is moved to
       https://github.com/JPCOAR/schema/blob/master/2.0/; xsi:schemaLocation and other xsi attributes are dropped;
    2. the result is rebuilt by lib/jpcoar2_build.xsl, which restores schema order and repairs or drops what the
       official schema would reject.
-->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:exsl="http://exslt.org/common"
    exclude-result-prefixes="exsl">

  <xsl:import href="lib/jpcoar2_build.xsl"/>
  <xsl:output method="xml" encoding="UTF-8" indent="no"/>

  <xsl:variable name="JPCOAR2" select="'https://github.com/JPCOAR/schema/blob/master/2.0/'"/>
  <!-- Namespaces read as JPCOAR 2.0 on input.  Add a variant here if a source writes another one. -->
  <xsl:variable name="JPCOAR_VARIANTS"
      select="' https://github.com/JPCOAR/schema/blob/master/2.0/ https://irdb.nii.ac.jp/schema/jpcoar/2.0/ https://github.com/JPCOAR/schema/blob/master/1.0/ '"/>
  <xsl:variable name="XSI" select="'http://www.w3.org/2001/XMLSchema-instance'"/>

  <xsl:template match="/">
    <xsl:if test="local-name(*) != 'jpcoar' or not(contains($JPCOAR_VARIANTS, concat(' ', namespace-uri(*), ' ')))">
      <xsl:message terminate="yes">not a JPCOAR record: the root element is {<xsl:value-of select="namespace-uri(*)"/>}<xsl:value-of select="local-name(*)"/></xsl:message>
    </xsl:if>
    <xsl:variable name="renamed"><xsl:apply-templates select="*" mode="rename"/></xsl:variable>
    <xsl:apply-templates select="exsl:node-set($renamed)/*" mode="jp2-root"/>
  </xsl:template>

  <xsl:template match="*" mode="rename">
    <xsl:variable name="ns">
      <xsl:choose>
        <xsl:when test="contains($JPCOAR_VARIANTS, concat(' ', namespace-uri(), ' '))"><xsl:value-of select="$JPCOAR2"/></xsl:when>
        <xsl:otherwise><xsl:value-of select="namespace-uri()"/></xsl:otherwise>
      </xsl:choose>
    </xsl:variable>
    <xsl:element name="{local-name()}" namespace="{$ns}">
      <xsl:copy-of select="@*[namespace-uri() != $XSI]"/>
      <xsl:apply-templates select="*|text()" mode="rename"/>
    </xsl:element>
  </xsl:template>

</xsl:stylesheet>
