"""The bundled demo portfolio: a realistic, deterministic team and ledger.

Sits above queue/ (it scores queue rows with the same priority rules the app uses) and
db/, so the layers keep flowing one way: demo -> queue -> db.
"""

from dunning.demo.build import build_demo, build_demo_report

__all__ = ["build_demo", "build_demo_report"]
