"""``Folder``: a path checked with ``Root.locate`` and swapped for a link afterwards is not followed.

These are the races no REST test can time: the checkpoint store resolves and checks its
paths, then works through ``Folder``, which must refuse a link put in place in between.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from jupyter_core_server_contents.fileio import Root
from jupyter_core_server_contents.folders import Folder, LinkInTheWay


@pytest.fixture
def places(tmp_path: Path) -> tuple[Root, Path, Path]:
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    return Root(str(root)), root, outside


def swap_for_link(path: Path, target: Path) -> None:
    """Replace a checked directory with a link, as another process could between check and use."""
    for child in path.iterdir():
        child.unlink()
    path.rmdir()
    os.symlink(target, path)


def test_a_folder_swapped_for_a_link_after_the_check_is_refused(places: tuple[Root, Path, Path]) -> None:
    root, path, outside = places
    (path / "sub" / ".ipynb_checkpoints").mkdir(parents=True)
    checked = root.locate("sub/.ipynb_checkpoints").real_path
    swap_for_link(path / "sub" / ".ipynb_checkpoints", outside)
    with pytest.raises(LinkInTheWay):
        Folder(root, checked, create=True)
    swap_for_link(path / "sub", outside)  # a link higher up the way
    with pytest.raises(LinkInTheWay):
        Folder(root, checked, create=True)
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]


def test_missing_folders_are_not_made_through_a_dangling_link(places: tuple[Root, Path, Path]) -> None:
    root, path, outside = places
    checked = root.locate("a/b/c").real_path
    (path / "a").mkdir()
    os.symlink(outside / "made-here", path / "a" / "b")
    with pytest.raises(LinkInTheWay):
        Folder(root, checked, create=True)
    assert not (outside / "made-here").exists()
    with Folder(root, root.locate("x/y").real_path, create=True) as folder:
        folder.write("new.txt", [b"inside"])
    assert (path / "x" / "y" / "new.txt").read_text() == "inside"


def test_entries_that_are_links_are_replaced_or_refused_never_followed(places: tuple[Root, Path, Path]) -> None:
    root, path, outside = places
    os.symlink(outside / "secret.txt", path / "link.txt")
    with Folder(root, root.path) as folder:
        with pytest.raises(LinkInTheWay):
            folder.open("link.txt")
        folder.write("link.txt", [b"replaced"])  # the link itself is replaced
        assert not (path / "link.txt").is_symlink() and (path / "link.txt").read_text() == "replaced"
        os.symlink(outside / "secret.txt", path / "other.txt")
        folder.unlink("other.txt")
    assert (outside / "secret.txt").read_text() == "secret"
