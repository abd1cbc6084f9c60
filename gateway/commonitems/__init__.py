"""The common metadata items as GakuNin RDM and the funders' spreadsheets carry them.

The layout (columns, headers in Japanese and English, GakuNin RDM keys) and the value lists are data, in
``mappings/commonitems/``; the mapping to JPCOAR 2.0 is ``mappings/commonitems_to_jpcoar_2.0.xsl``. The package:

- `reading`: a row (spreadsheet cells, by column key) into an *entry* (GRDM keys -> values); a GakuNin RDM metadata
  object already is one, so every export form meets in one shape; `layout` gives the columns and reads the headers;
- `values`: the value lists and how a written value is read against them (funder labels by pattern, e-Rad fields,
  data types, licences, access rights, AMED sharing levels);
- `building`: an entry resolved against the value lists into the intermediate "common items" document, and mapped
  to JPCOAR 2.0 with the stylesheet;
- `export`: a stored record back into a row of the layout (for ``gateway export spreadsheet``);
- `problems`: a value that cannot be read, as a `Problem` naming the column, the value and what is expected, carried
  in the stored raw record as ``<ci:problem>`` and read back by `reading_findings` as error findings, so that the
  record is held in quarantine and counted, never published; `tables` reads the data files.

The names below are what the harvesters (spreadsheet, GakuNin RDM), the pipeline and the export use.
"""

from gateway.commonitems.building import STYLESHEET, Resolved, resolve
from gateway.commonitems.export import row_from_record
from gateway.commonitems.layout import Column, LayoutError, columns, header_map
from gateway.commonitems.problems import CI, Problem, RowError, problem_text, reading_findings
from gateway.commonitems.reading import entry_from_cells
from gateway.commonitems.values import parse_funder_label, split_pair

__all__ = [
    "CI",
    "STYLESHEET",
    "Column",
    "LayoutError",
    "Problem",
    "Resolved",
    "RowError",
    "columns",
    "entry_from_cells",
    "header_map",
    "parse_funder_label",
    "problem_text",
    "reading_findings",
    "resolve",
    "row_from_record",
    "split_pair",
]
