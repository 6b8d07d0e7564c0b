"""zkpor: zero-knowledge Proof of Reserves (see DESIGN.md for the layers)."""

__version__ = "0.1.0"
