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
    xmlns:jpcoar="https://github.com/JPCOAR/schema/blob/master/2.0/"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    exclude-result-prefixes="exsl jpcoar xsi">

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
    <xsl:choose>
      <!-- Nearly every record is already in the 2.0 namespace (its root first of all), with xsi attributes (if any)
           only on its root, which the builder does not read: it is built as it is.  Renaming copies the whole record first, which costs more than
           the rest of the mapping; the builder never looks at what the copy leaves out (comments, processing
           instructions, namespace declarations). -->
      <xsl:when test="jpcoar:jpcoar
                      and not(//*[not(self::jpcoar:*)][contains($JPCOAR_VARIANTS, concat(' ', namespace-uri(), ' '))])
                      and not(*/*/descendant-or-self::*/@xsi:*)">
        <xsl:apply-templates select="*" mode="jp2-root"/>
      </xsl:when>
      <xsl:otherwise>
        <xsl:variable name="renamed"><xsl:apply-templates select="*" mode="rename"/></xsl:variable>
        <xsl:apply-templates select="exsl:node-set($renamed)/*" mode="jp2-root"/>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <!-- The builder reads elements by namespace and local name only (never by prefix, never copying one), so an element
       that keeps its namespace is copied as it is; xsl:element with a computed name costs several times as much.
       The namespace below is $JPCOAR2, written out: a computed one would also be evaluated for every element. -->
  <xsl:template match="*" mode="rename">
    <xsl:choose>
      <xsl:when test="contains($JPCOAR_VARIANTS, concat(' ', namespace-uri(), ' '))">
        <xsl:element name="{local-name()}" namespace="https://github.com/JPCOAR/schema/blob/master/2.0/">
          <xsl:copy-of select="@*[namespace-uri() != $XSI]"/>
          <xsl:apply-templates select="*|text()" mode="rename"/>
        </xsl:element>
      </xsl:when>
      <xsl:otherwise>
        <xsl:copy>
          <xsl:copy-of select="@*[namespace-uri() != $XSI]"/>
          <xsl:apply-templates select="*|text()" mode="rename"/>
        </xsl:copy>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:template>

</xsl:stylesheet>
