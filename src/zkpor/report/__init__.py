"""The published report: report.json (built by `zkpor.round.report_model`) rendered as a self-contained
report.html (inline CSS and SVG charts, no external resource) and as report.pdf with the same content.

Templates and CSS are package data under `templates/`; charts are drawn by pygal as inline SVG.
"""
