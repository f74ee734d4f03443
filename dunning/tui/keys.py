"""Key labels in the collector's language.

``BINDINGS`` are class attributes built before the language is known, and the footer and
help panel show ``Binding.description`` as is; each node gets translated copies.
"""

from __future__ import annotations

from dataclasses import replace

from textual.dom import DOMNode

from dunning.i18n import _


def translate_bindings(node: DOMNode) -> None:
    """Swap the node's own binding map for one with translated descriptions."""
    table = node._bindings.key_to_bindings  # noqa: SLF001 - a per-instance copy
    for key, bindings in table.items():
        table[key] = [
            replace(b, description=_(b.description), tooltip=_(b.tooltip) if b.tooltip else "")
            for b in bindings
        ]
