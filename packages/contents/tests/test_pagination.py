"""Optional pagination of listings: ``limit`` and ``cursor``; without them, jupyter_server's response."""

from __future__ import annotations

from pathlib import Path

from contents_calls import call


async def test_pages_cover_the_directory_in_name_order(jcs_client, root: Path) -> None:
    names = [f"f{i:03d}.txt" for i in range(25)] + ["z-dir", ".hidden"]
    for name in names[:-2]:
        (root / name).write_text(name)
    (root / "z-dir").mkdir()
    (root / ".hidden").write_text("h")
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": "10"} | ({"cursor": cursor} if cursor else {})
        status, model = await call(jcs_client, "GET", "api/contents", params=params)
        assert status == 200
        pages += 1
        seen += [entry["name"] for entry in model["content"]]
        cursor = model["next_cursor"]
        if cursor is None:
            break
    assert pages == 3 and seen == sorted(names[:-1])

    status, full = await call(jcs_client, "GET", "api/contents")
    assert "next_cursor" not in full and len(full["content"]) == 26


async def test_a_page_survives_changes_before_the_cursor(jcs_client, root: Path) -> None:
    for name in "abcdef":
        (root / name).write_text(name)
    _, first = await call(jcs_client, "GET", "api/contents", params={"limit": "3"})
    assert [e["name"] for e in first["content"]] == ["a", "b", "c"]
    (root / "a").unlink()
    (root / "bb").write_text("new, sorts before the cursor")
    _, second = await call(jcs_client, "GET", "api/contents", params={"limit": "3", "cursor": first["next_cursor"]})
    assert [e["name"] for e in second["content"]] == ["d", "e", "f"] and second["next_cursor"] is None


async def test_bad_pagination_arguments(jcs_client) -> None:
    for params in ({"limit": "0"}, {"limit": "-1"}, {"limit": "ten"}):
        status, error = await call(jcs_client, "GET", "api/contents", params=params)
        assert status == 400 and error["reason"] == "bad_limit"
    status, error = await call(jcs_client, "GET", "api/contents", params={"limit": "2", "cursor": "!!"})
    assert status == 400 and error["reason"] == "bad_cursor"
