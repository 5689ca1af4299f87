"""pip installs the package offline (Debian's setuptools and wheel, no
index), and the installed copy works. The source is copied to a temporary
directory first, so the build leaves nothing in the tree."""
import os
import shutil
import subprocess
import sys

from conftest import HERE, need


def test_pip_install_offline(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(HERE.parent, src, ignore=shutil.ignore_patterns(
        "tests", "__pycache__", "*.egg-info", "build"))
    site = tmp_path / "site"
    env = dict(os.environ, PIP_NO_CACHE_DIR="1", HOME=str(tmp_path),
               PIP_DISABLE_PIP_VERSION_CHECK="1")
    env.pop("PYTHONPATH", None)
    r = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet",
                        "--no-build-isolation", "--no-index", "--no-deps",
                        "--target", str(site), str(src)],
                       env=env, capture_output=True, text=True, timeout=300)
    need(not ("No module named pip" in r.stderr), "pip is not installed")
    assert r.returncode == 0, r.stdout + r.stderr
    assert (site / "lupi" / "__init__.py").is_file()
    code = ("import lupi, lupi.sklearn, numpy as np; "
            "print(lupi.__file__); "
            "m = lupi.Model('binary', 2, [3]).init(); "
            "print(m.predict(np.zeros((1, 2))).shape)")
    env["PYTHONPATH"] = str(site)
    r = subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    path, shape = r.stdout.splitlines()
    assert path.startswith(str(site)) and shape == "(1, 1)"
