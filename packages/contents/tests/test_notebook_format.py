"""Notebook files are byte-identical to nbformat's, and signatures match nbformat's notary."""

from __future__ import annotations

import copy
import json
import math

import nbformat
import pytest
from nbformat.sign import NotebookNotary
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output, new_raw_cell

from jupyter_core_server_contents import notebooks


def sample() -> dict:
    nb = new_notebook(
        cells=[
            new_markdown_cell(
                '# Title\n\nÜnïcödé, "quotes", \\ backslash, \t tab and \u2028 separator\n',
                attachments={"a.png": {"image/png": "iVBOR\nw0KGgo="}},
            ),
            new_code_cell(
                "for i in range(3):\n    print(i)",
                execution_count=7,
                outputs=[
                    new_output("stream", name="stdout", text="0\n1\n2\n"),
                    new_output(
                        "display_data",
                        data={
                            "text/html": "<b>x</b>\n<i>y</i>",
                            "image/png": "AAAA",
                            "application/json": {"a": [1, 2.5, None, True]},
                            "image/svg+xml": "<svg>\n</svg>",
                        },
                        metadata={"isolated": True},
                    ),
                    new_output("execute_result", data={"text/plain": "42"}, execution_count=7),
                    new_output("error", ename="E", evalue="v", traceback=["line 1", "line 2"]),
                ],
            ),
            new_raw_cell("raw\ntext", metadata={"format": "text/x-rst"}),
            new_code_cell(""),
        ],
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "numbers": [0, -1, 1e100, 0.1, math.pi],
            "empty": {},
            "list": [],
        },
    )
    return json.loads(json.dumps(nb))


def test_written_bytes_match_nbformat() -> None:
    nb = sample()
    expected = nbformat.writes(nbformat.from_dict(copy.deepcopy(nb))) + "\n"
    assert notebooks.to_disk(copy.deepcopy(nb)).decode() == expected
    data, message = notebooks.serialize(copy.deepcopy(nb), notebooks.ValidCells())
    assert message is None and data.decode() == expected


def test_read_matches_nbformat_and_round_trips() -> None:
    raw = nbformat.writes(nbformat.from_dict(sample())).encode()
    ours = notebooks.from_disk(raw)
    theirs = nbformat.reads(raw.decode(), as_version=4)
    assert ours == json.loads(json.dumps(theirs))
    assert notebooks.to_disk(ours) == raw + b"\n"


def test_validation_is_remembered_per_cell_but_failures_use_the_whole_notebook() -> None:
    valid = notebooks.ValidCells()
    nb = sample()
    assert notebooks.serialize(copy.deepcopy(nb), valid)[1] is None
    broken = copy.deepcopy(nb)
    broken["cells"][2]["outputs"] = []  # raw cells have no outputs
    _, message = notebooks.serialize(broken, valid)
    assert message is not None and "Notebook validation failed" in message and "outputs" in message
    # the same broken cell is not remembered as valid
    assert notebooks.serialize(copy.deepcopy(broken), valid)[1] is not None
    top_broken = copy.deepcopy(nb)
    top_broken["metadata"]["kernelspec"] = "python3"  # must be an object
    assert notebooks.serialize(top_broken, valid)[1] is not None


@pytest.mark.parametrize("split", [False, True])
def test_signature_matches_nbformat(split: bool, tmp_path) -> None:
    notary = NotebookNotary(data_dir=str(tmp_path), db_file=":memory:", secret=b"k" * 32)
    nb = sample()
    nb["metadata"]["signature"] = "sha256:old"
    expected = notary.compute_signature(nbformat.from_dict(copy.deepcopy(nb)))
    form = copy.deepcopy(nb)
    if split:
        notebooks.split_lines(form)
    assert notebooks.signature(form, notary.secret, notary.digestmod) == expected
    assert form["metadata"]["signature"] == "sha256:old"


def test_trust_marks_follow_nbformat() -> None:
    nb = sample()
    assert notebooks.check_cells(copy.deepcopy(nb)) is False  # rich output, not marked trusted
    notebooks.mark_cells(nb, True)
    assert [c["metadata"].get("trusted") for c in nb["cells"]] == [None, True, None, True]
    assert notebooks.check_cells(nb) is True
    assert "trusted" not in nb["cells"][1]["metadata"]  # the marks never reach the file
