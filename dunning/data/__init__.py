"""Data tables shipped with the package (JSON), loaded once by the modules that use them."""
