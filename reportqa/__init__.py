"""reportqa: question answering with exact citations over Chinese research reports."""

__version__ = "0.1.0"
