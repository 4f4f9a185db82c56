"""Rows of many candidates on one task -> one table -> report (Markdown, HTML, charts)."""
