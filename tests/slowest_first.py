"""`make test`'s order on its pytest-xdist workers: the longest work first, so that the workers end together.

pytest-xdist hands out work units (one test, or all the tests of an xdist_group: conftest.py) in the order the
workers collected them, each to whichever worker is free (`--dist loadgroup --no-loadscope-reorder`). A long
test handed out near the end keeps one worker busy while the other has nothing left to do; handed out longest
first, the short ones fill the gaps at the end (the longest-processing-time rule). A unit's length is the sum
of its tests' times in earlier runs, kept in pytest's cache (.pytest_cache/, `--cache-clear` forgets them), or
for a test the cache has not timed (a fresh clone: CI) in SECONDS_FILE, the times of the tests over MIN_KEPT
seconds as measured on the 2-core machine the suite is timed on: without them a fresh clone ran xdist's own
order (the units with most tests first) and one worker ran a long test alone at the end (5 min 4 s against
4 min 17 s). A test in neither counts UNTIMED seconds. Only the order changes: every test runs, in its unit,
as before. Refresh the file after a timed run: `python tests/slowest_first.py`.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

KEY = "translation/test-seconds"  # {node id without its "@group": seconds of setup + call + teardown}
UNTIMED = 1.0
SECONDS_FILE = Path(__file__).with_name("test_seconds.json")
MIN_KEPT = 0.5  # shorter tests are left out of SECONDS_FILE: their order hardly matters
# this run's times, kept by the process that saves them (the controller, or a lone pytest); None elsewhere
_timed: dict[str, float] | None = None


def _plain_id(nodeid: str) -> str:
    """The node id without the "@group" suffix pytest-xdist appends to a grouped test's id."""
    at = nodeid.rfind("@")
    return nodeid[:at] if at > nodeid.rfind("]") else nodeid


def _is_worker(config) -> bool:
    return hasattr(config, "workerinput")


def _cache(config):
    return getattr(config, "cache", None)  # None with -p no:cacheprovider


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    """The controller sends its cached times to each worker it starts: every worker orders with the same ones."""
    cache = _cache(node.config)
    committed = json.loads(SECONDS_FILE.read_text()) if SECONDS_FILE.is_file() else {}
    node.workerinput[KEY] = {**committed, **(cache.get(KEY, {}) if cache else {})}


def longest_first(items: list, config) -> None:
    """Reorder `items` on a pytest-xdist worker (a lone pytest keeps the file order): the units with the most
    seconds first, a unit's tests together in their order. Needs each grouped item's xdist_group mark."""
    if not _is_worker(config):
        return
    seconds = config.workerinput.get(KEY, {})
    units: dict[str, list] = {}
    for item in items:
        mark = item.get_closest_marker("xdist_group")
        units.setdefault(f"group {mark.args[0] if mark.args else mark.kwargs.get('name')}" if mark else item.nodeid,
                         []).append(item)
    total = {unit: sum(seconds.get(_plain_id(item.nodeid), UNTIMED) for item in members)
             for unit, members in units.items()}
    items[:] = [item for unit in sorted(units, key=lambda unit: -total[unit]) for item in units[unit]]


def pytest_configure(config):
    global _timed
    _timed = None if _is_worker(config) or _cache(config) is None else {}  # workers report to the controller


def pytest_runtest_logreport(report):
    if _timed is not None:
        test = _plain_id(report.nodeid)
        _timed[test] = _timed.get(test, 0.0) + report.duration


def pytest_sessionfinish(session):
    if _timed:
        cache = _cache(session.config)
        cache.set(KEY, {**cache.get(KEY, {}), **_timed})


if __name__ == "__main__":  # write SECONDS_FILE from the last run's times in pytest's cache
    import sys

    cached = Path(__file__).parent.parent / ".pytest_cache" / "v" / KEY
    if not cached.is_file():
        sys.exit(f"{cached}: no timed run yet (run `make test` first)")
    kept = {test: round(seconds, 1) for test, seconds in sorted(json.loads(cached.read_text()).items())
            if seconds >= MIN_KEPT}
    SECONDS_FILE.write_text(json.dumps(kept, indent=0) + "\n")
    print(f"wrote {len(kept)} tests' times ({sum(kept.values()):.0f} s) to {SECONDS_FILE}")
