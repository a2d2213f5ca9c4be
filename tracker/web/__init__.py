"""Cross-cutting web pieces: error pages, formatting, language, the home page."""
