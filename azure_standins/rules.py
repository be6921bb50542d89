"""Every rule the stand-ins apply has a name (BEHAVIOURS.md lists them), so that it can be
switched off: `AZURE_STANDINS_WITHOUT=rule[,rule...]`. Switched off, a stand-in behaves the
lax way a careless double would, and the tests BEHAVIOURS.md names for that rule must then
fail (tests/standins/test_behaviours.py runs them so). Nothing else switches rules off.
"""

import os


def applies(rule: str) -> bool:
    """Does the stand-in apply `rule`? (Always, unless a behaviour test switched it off.)"""
    return rule not in os.environ.get("AZURE_STANDINS_WITHOUT", "").split(",")
