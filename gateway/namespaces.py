"""XML namespaces the gateway reads and writes (facts from the OAI-PMH 2.0 and JPCOAR specifications)."""

OAI = "http://www.openarchives.org/OAI/2.0/"
OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
OAI_IDENTIFIER = "http://www.openarchives.org/OAI/2.0/oai-identifier"
PROVENANCE = "http://www.openarchives.org/OAI/2.0/provenance"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XML = "http://www.w3.org/XML/1998/namespace"

JPCOAR_2 = "https://github.com/JPCOAR/schema/blob/master/2.0/"
# WEKO3 advertises this namespace in ListMetadataFormats but writes JPCOAR_2 in records; both mean JPCOAR 2.0.
JPCOAR_2_IRDB = "https://irdb.nii.ac.jp/schema/jpcoar/2.0/"
JPCOAR_1 = "https://github.com/JPCOAR/schema/blob/master/1.0/"

DC = "http://purl.org/dc/elements/1.1/"
DCTERMS = "http://purl.org/dc/terms/"
DATACITE = "https://schema.datacite.org/meta/kernel-4/"
OAIRE = "http://namespace.openaire.eu/schema/oaire/"
DCNDL = "http://ndl.go.jp/dcndl/terms/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RIOXXTERMS = "http://www.rioxx.net/schema/v2.0/rioxxterms/"

# The prefixes a canonical JPCOAR 2.0 record declares on its root, and that XPaths over it use.
JPCOAR2_PREFIXES = {
    "jpcoar": JPCOAR_2,
    "dc": DC,
    "dcterms": DCTERMS,
    "datacite": DATACITE,
    "oaire": OAIRE,
    "dcndl": DCNDL,
    "rdf": RDF,
}

NSMAP = {
    "oai": OAI,
    "oai_dc": OAI_DC,
    "jpcoar": JPCOAR_2,
    "jpcoar1": JPCOAR_1,
    "dc": DC,
    "dcterms": DCTERMS,
    "datacite": DATACITE,
    "oaire": OAIRE,
    "dcndl": DCNDL,
    "rdf": RDF,
    "rioxxterms": RIOXXTERMS,
    "xsi": XSI,
    "xml": XML,
}
