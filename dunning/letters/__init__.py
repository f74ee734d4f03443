"""Written collections (issue 10): templates rendered in the customer's language.

- :mod:`dunning.letters.kinds`: the kinds of letter and the languages they are written in;
- :mod:`dunning.letters.render`: ``render(kind, locale, context) -> Rendered`` with Jinja2
  (sandboxed, undefined names fail, HTML autoescaped) and babel filters;
- :mod:`dunning.letters.context`: what a letter says about an account, read from the
  database;
- :mod:`dunning.letters.check`: every template rendered against the demo portfolio;
- :mod:`dunning.letters.settings`: the ``[letters]`` table of the configuration.

No Textual here. This ``__init__`` imports nothing: the configuration reads
``letters.settings`` at every start.
"""
