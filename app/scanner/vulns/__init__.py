"""Vulnerability data: OSV records parsed into advisories, matched against installed packages."""

from __future__ import annotations
