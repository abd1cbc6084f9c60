<?xml version="1.0" encoding="UTF-8"?>
<!--
  jpcoar_1.0 -> canonical (JPCOAR 2.0).
  The 2.0 normaliser already reads the 1.0 namespace; what differs between the versions is handled where the 2.0 content
  model is built (lib/jpcoar2_build.xsl), so that a 2.0 source making the same 1.0-style mistakes is repaired too:
    - nameIdentifierScheme "e-Rad" -> "e-Rad_Researcher"; subjectScheme "Sci-Val" -> "SciVal";
    - datacite:funderIdentifier / datacite:awardNumber inside jpcoar:fundingReference -> jpcoar:funderIdentifier /
      jpcoar:awardNumber;
    - resource types 2.0 dropped (periodical, conference object, interview, internal report, report part) -> the 2.0
      term named by <legacy current="..."> in vocab/coar_resource_types.xml;
    - rioxxterms:apc (not in 2.0) is not carried over;
    - a missing jpcoar:identifier (optional in 1.0, required in 2.0) is filled from the best identifier available.
  Put rules that only apply to 1.0 sources below.
-->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
  <xsl:import href="jpcoar_2.0_in.xsl"/>
  <xsl:output method="xml" encoding="UTF-8" indent="no"/>
</xsl:stylesheet>
