import json
import subprocess
import sys

from conftest import REPO


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "fer_core", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=300)


def test_data_info_and_check_on_demo():
    info = run_cli("data", "info", "demo", "--json")
    assert info.returncode == 0, info.stderr
    facts = json.loads(info.stdout)
    assert facts["rows"] == 392 and facts["demo"] is True
    assert facts["class_counts"]["Training"]["happy"] == 40
    check = run_cli("data", "check", "demo")
    assert check.returncode == 0
    assert "leaks PublicTest<-Training: 2" in check.stdout
    assert "blank images (one flat value): 2" in check.stdout


def test_bad_path_gives_a_clear_error_and_exit_code(tmp_path):
    bad = tmp_path / "broken.csv"
    bad.write_text("a,b,c\n1,2,3\n")
    out = run_cli("data", "info", str(bad))
    assert out.returncode == 2
    assert "wrong header" in out.stderr and "Traceback" not in out.stderr


def test_info_maps_into_another_scheme():
    out = run_cli("data", "info", "demo", "--scheme", "fer2024", "--json")
    facts = json.loads(out.stdout)
    assert facts["scheme"] == "fer2024" and "not-a-face" in facts["class_counts"]["Training"]
