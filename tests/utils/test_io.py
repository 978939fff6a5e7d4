import os
import stat

import pytest

from sklearn_semg.utils._io import atomic_write


def test_atomic_write_permissions_and_no_overwrite(tmp_path):
    target = tmp_path / "out.bin"
    atomic_write(target, lambda f: f.write(b"first"))
    mode = stat.S_IMODE(os.stat(target).st_mode)
    umask = os.umask(0)
    os.umask(umask)
    assert mode == 0o666 & ~umask  # not mkstemp's 0600
    with pytest.raises(FileExistsError, match="not overwritten"):
        atomic_write(target, lambda f: f.write(b"second"), overwrite=False)
    assert target.read_bytes() == b"first"
    atomic_write(target, lambda f: f.write(b"third"))
    assert target.read_bytes() == b"third"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_failed_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"good")

    def explode(f):
        f.write(b"half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, explode)
    assert target.read_bytes() == b"good"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]
