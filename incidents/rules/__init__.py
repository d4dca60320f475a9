"""Correlation rules: which incident a new alert joins, and why.

Per workspace, ordered rules with conditions (`conditions`), a grouping method
(`grouping`), a window and whether closed matches re-open. `engine.plan` runs them over
new alerts without changing anything (ingestion, the dry run and `correlate` share it);
`engine.placements` hands the result to `membership.correlate_new_alerts`, and
`bridging` merges incidents one alert shows to belong together. Values too common to
correlate on never group (`facts`). A new workspace starts with `defaults`.
"""
