"""The CPU threading policy the CLI sets before torch loads."""
import subprocess
import sys

from translation.runtime import BUSY_FRACTION, IDLE_SPIN_COUNT, busy_fraction, wait_policy

from conftest import REPO


def test_user_settings_win_and_busy_machines_wait_passively():
    assert wait_policy({"OMP_WAIT_POLICY": "ACTIVE"}, busy=True) == {}
    assert wait_policy({"GOMP_SPINCOUNT": "0"}, busy=False) == {}
    assert wait_policy({}, busy=True) == {"OMP_WAIT_POLICY": "PASSIVE"}
    assert wait_policy({}, busy=False) == {"GOMP_SPINCOUNT": IDLE_SPIN_COUNT}


def test_a_busy_program_beside_us_is_seen():
    spinner = subprocess.Popen([sys.executable, "-c", "print('spinning', flush=True)\nwhile True: pass"],
                               stdout=subprocess.PIPE, text=True)
    try:
        assert spinner.stdout.readline().strip() == "spinning"  # it is in its loop: runnable from now on
        assert busy_fraction() >= BUSY_FRACTION
    finally:
        spinner.kill()
        spinner.wait()


def test_the_cli_decides_before_torch_is_imported():
    # translate loads torch, then fails on the missing checkpoint; the policy must have been set before that
    # (configure_cpu_threads sets nothing once torch is loaded)
    code = ("import os, sys\nfrom translation.cli import main\n"
            "main(['translate', 'no_such_checkpoint', 'in', 'out'])\n"
            "print('torch' in sys.modules, os.environ.get('OMP_WAIT_POLICY'), os.environ.get('GOMP_SPINCOUNT'))")
    env = {k: v for k, v in __import__("os").environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, env=env,
                         timeout=120)
    loaded, policy, spin = out.stdout.split()[-3:]
    assert loaded == "True" and "no_such_checkpoint" in out.stderr
    assert (policy, spin) in (("PASSIVE", "None"), ("None", IDLE_SPIN_COUNT)), out.stdout
    user = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                          env={**env, "OMP_WAIT_POLICY": "ACTIVE"}, timeout=120)
    assert user.stdout.split()[-2:] == ["ACTIVE", "None"]
