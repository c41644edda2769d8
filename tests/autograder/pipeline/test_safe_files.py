"""A submission is read without following a link, and only a regular file of bounded size counts."""
import os

import pytest

from autograder.pipeline.safe_files import UnsafeFile, is_real_folder, read_beneath


def _notebook(root, sid="s1", a="a1", text=b"{}"):
    folder = root / sid / a
    folder.mkdir(parents=True)
    (folder / f"{a}.ipynb").write_bytes(text)
    return folder / f"{a}.ipynb"


def test_a_regular_notebook_is_read(tmp_path):
    _notebook(tmp_path, text=b'{"cells": []}')
    assert read_beneath(tmp_path, ("s1", "a1", "a1.ipynb")) == b'{"cells": []}'


def test_a_linked_notebook_is_refused_with_a_reason(tmp_path):
    secret = tmp_path / "solutions.ipynb"
    secret.write_bytes(b"answer key")
    (tmp_path / "s1" / "a1").mkdir(parents=True)
    os.symlink(secret, tmp_path / "s1" / "a1" / "a1.ipynb")
    with pytest.raises(UnsafeFile, match="symbolic link") as info:
        read_beneath(tmp_path, ("s1", "a1", "a1.ipynb"))
    assert not info.value.missing


def test_a_linked_student_or_assignment_folder_is_refused(tmp_path):
    _notebook(tmp_path, sid="victim")
    os.symlink(tmp_path / "victim", tmp_path / "thief")
    with pytest.raises(UnsafeFile, match="thief is a symbolic link"):
        read_beneath(tmp_path, ("thief", "a1", "a1.ipynb"))
    (tmp_path / "s2").mkdir()
    os.symlink(tmp_path / "victim" / "a1", tmp_path / "s2" / "a1")
    with pytest.raises(UnsafeFile, match="s2/a1 is a symbolic link"):
        read_beneath(tmp_path, ("s2", "a1", "a1.ipynb"))
    assert not is_real_folder(tmp_path / "thief") and is_real_folder(tmp_path / "victim")


def test_special_and_oversized_files_are_refused_and_missing_is_told_apart(tmp_path):
    (tmp_path / "s1" / "a1").mkdir(parents=True)
    os.mkfifo(tmp_path / "s1" / "a1" / "a1.ipynb")  # would block a plain open() forever
    with pytest.raises(UnsafeFile, match="named pipe"):
        read_beneath(tmp_path, ("s1", "a1", "a1.ipynb"))
    _notebook(tmp_path, sid="big", text=b"x" * 2048)
    with pytest.raises(UnsafeFile, match="MiB"):
        read_beneath(tmp_path, ("big", "a1", "a1.ipynb"), max_bytes=1024)
    with pytest.raises(UnsafeFile) as info:
        read_beneath(tmp_path, ("nobody", "a1", "a1.ipynb"))
    assert info.value.missing


def test_names_that_climb_out_are_refused(tmp_path):
    _notebook(tmp_path)
    for parts in (("..", "a1", "a1.ipynb"), ("s1/a1", "a1.ipynb"), ("s1", "a1", "")):
        with pytest.raises(UnsafeFile):
            read_beneath(tmp_path, parts)
