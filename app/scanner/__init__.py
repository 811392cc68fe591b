"""The scanner: registry client, layer analysis and matching; no serving, no storage."""
