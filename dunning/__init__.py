"""dunning: a keyboard-driven terminal call queue for collections teams."""

__version__ = "0.1.0"
