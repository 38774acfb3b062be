"""geosim: agent-based geoeconomic simulation of trade and investment in the Americas."""
__version__ = "0.1.0"
