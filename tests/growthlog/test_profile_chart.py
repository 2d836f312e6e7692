"""The jagged-profile chart: a real PNG, drawn from the profile, safe to render from several threads."""

from __future__ import annotations

import io
import struct
import threading
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from bot.catalog import BUNDLED_CONTENT_DIR, load_catalog
from bot.growthlog.assessment import Profile, Snapshot, assessment_choices, reference_for
from bot.growthlog.profile_chart import DPI, PNG_SIGNATURE, WIDTH_IN, chart_data, profile_png


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(BUNDLED_CONTENT_DIR)


def profile(catalog, *picks_by_day: tuple[int, dict], level=("delivery", "senior")) -> Profile:
    snapshots = tuple(Snapshot(datetime(2026, 3, day, 9, tzinfo=UTC), picks) for day, picks in picks_by_day)
    reference = reference_for(catalog, catalog.level(*level) if level else None)
    return Profile("U1", snapshots, reference, (), ZoneInfo("Europe/Berlin"))


def ids_and_names(catalog) -> list[tuple[str, str]]:
    return [(item.capability.id, item.capability.name) for item in assessment_choices(catalog)]


def png_size(data: bytes) -> tuple[int, int]:
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_the_chart_is_a_png_that_decodes(catalog):
    caps = ids_and_names(catalog)
    older = {cid: "mid" for cid, _ in caps}
    latest = {cid: ("senior" if i % 3 else "junior") for i, (cid, _) in enumerate(caps[:-2])}
    data = profile_png(catalog, profile(catalog, (2, older), (16, latest)), "Jagged profile · Ada")
    assert data.startswith(PNG_SIGNATURE)
    width, height = png_size(data)
    assert width == int(WIDTH_IN * DPI)
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        assert image.format == "PNG"
        assert image.size == (width, height)
        # Not a blank canvas: the lines and labels are there.
        assert len(image.convert("RGB").getcolors(maxcolors=1 << 24)) > 20


def test_chart_data_lines_extremes_and_movement(catalog):
    caps = ids_and_names(catalog)
    (a, name_a), (b, name_b), (c, name_c) = caps[:3]
    older = {a: "junior", b: "senior"}
    latest = {a: "mid", b: "intern", c: "lead"}
    data = chart_data(catalog, profile(catalog, (2, older), (16, latest)), "T")
    assert data.roles == ("Intern", "Junior", "Mid", "Senior", "Lead")
    assert len(data.capabilities) == 27 and sum(n for _, n in data.stages) == 27
    assert [s.label for s in data.series] == ["2 Mar 2026", "16 Mar 2026"]
    assert data.series[-1].values[:4] == (2, 0, 4, None)
    assert data.reference == 3 and data.reference_label == "Your level: Senior"
    assert data.below == {1} and data.above == {2}
    notes = "\n".join(data.notes)
    assert f"Furthest below Senior (3 roles): {name_b}" in notes
    assert f"Furthest above Senior (1 role): {name_c}" in notes
    assert f"Since 2 Mar 2026: up: {name_a} (Junior → Mid); down: {name_b} (Senior → Intern)." in notes


def test_without_a_level_there_is_no_reference_line_and_the_chart_says_so(catalog):
    caps = ids_and_names(catalog)
    p = profile(catalog, (5, {caps[0][0]: "mid"}), level=None)
    data = chart_data(catalog, p, "T")
    assert data.reference is None and data.below == frozenset() and data.above == frozenset()
    assert any("No level set" in note for note in data.notes)
    assert profile_png(catalog, p, "T").startswith(PNG_SIGNATURE)


def test_rendering_from_several_threads_at_once(catalog):
    caps = ids_and_names(catalog)
    p = profile(catalog, (3, {cid: "senior" for cid, _ in caps}))
    results: list[bytes] = []
    errors: list[BaseException] = []

    def render() -> None:
        try:
            results.append(profile_png(catalog, p, "Threads"))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=render) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert len(results) == 4 and all(r.startswith(PNG_SIGNATURE) for r in results)
    assert len({png_size(r) for r in results}) == 1
