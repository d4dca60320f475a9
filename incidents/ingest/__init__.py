"""Alert ingestion: Sentinel `SecurityAlert` rows in, every entity kept, each new alert placed.

The pipeline, one module a step:

- `readers` streams rows out of JSON, JSON lines or CSV files (gzip too), with where each
  row came from;
- `rows` checks one row and maps its columns onto an `AlertRow`;
- `entities` resolves a row's `Entities` ($id / $ref) into records with Sentinel's
  strong identifiers;
- `store` upserts a batch of rows (alerts, entities, their links) in one transaction;
- `placement` decides the incident of each new alert and hands it to
  `incidents.membership`, which writes every relation.
"""
