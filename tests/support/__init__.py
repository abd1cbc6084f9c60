"""What the tests share beyond fixtures: local servers, fixture records, official schemas, corpora.

- `paths`: the checkout, the fixture folder and the shared reference folder, computed in one place;
- `servers`: a WSGI app served over a real socket on 127.0.0.1; `oaiserver`: an OAI-PMH repository of fixture records;
  `faultserver`: the same repository failing in the ways real ones do;
- `records`: a JPCOAR 2.0 dataset record with every common item, to vary; `commonitem_rows`: a project's rows in the
  common-item layout, written in every form GakuNin RDM exports and spreadsheets come in;
- `provider_fixtures`: published records written straight through the models; `provider_writer`: another process
  changing them while a test walks a list;
- `official_schemas`: the official OAI-PMH / JPCOAR schemas, loaded offline, as the oracle;
- `equivalence`: the corpus and fingerprints that prove the mapping stage unchanged;
- `browser`: headless Chromium driving the dashboard.
"""
