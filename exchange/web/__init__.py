"""The web portal: server-rendered pages for people (docs/decisions/0014-web.md)."""
