"""The crosswalks of mappings/ and the Annex-3 view: formats, golden files, content, official samples, stylesheets."""
