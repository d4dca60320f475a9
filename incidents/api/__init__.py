"""The REST API, compatible with Microsoft Sentinel's Incident Relations operations."""
