"""The CPU threading policy the CLI sets before torch loads."""
import os
import subprocess
import sys

from translation.runtime import IDLE_SPIN_COUNT, wait_policy

from conftest import REPO


def test_user_settings_win_else_a_bounded_spin():
    assert wait_policy({"OMP_WAIT_POLICY": "ACTIVE"}) == {}
    assert wait_policy({"GOMP_SPINCOUNT": "0"}) == {}
    assert wait_policy({}) == {"GOMP_SPINCOUNT": IDLE_SPIN_COUNT}


def test_the_cli_decides_before_torch_is_imported_and_says_nothing():
    # translate loads torch, then fails on the missing checkpoint; the policy must have been set before that
    # (configure_cpu_threads sets nothing once torch is loaded), whatever else the machine is doing
    code = ("import os, sys\nfrom translation.cli import main\n"
            "main(['translate', 'no_such_checkpoint', 'in', 'out'])\n"
            "print('torch' in sys.modules, os.environ.get('OMP_WAIT_POLICY'), os.environ.get('GOMP_SPINCOUNT'))")
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, env=env,
                         timeout=120)
    assert out.stdout.split()[-3:] == ["True", "None", IDLE_SPIN_COUNT], out.stdout
    assert "no_such_checkpoint" in out.stderr and "CPU" not in out.stderr  # no note about other programs
    user = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                          env={**env, "OMP_WAIT_POLICY": "PASSIVE"}, timeout=120)
    assert user.stdout.split()[-2:] == ["PASSIVE", "None"]
