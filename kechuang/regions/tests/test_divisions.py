"""Reading an edition of the division codes: the shipped 2023 files and broken ones."""

from __future__ import annotations

import csv
import gzip
import io
import tempfile
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kechuang.regions.choices import Level, UnitKind
from kechuang.regions.divisions import (
    SHIPPED_DIR,
    Division,
    DivisionFileError,
    read_divisions,
)

CODE_WIDTH = {Level.PROVINCE: 2, Level.CITY: 4, Level.COUNTY: 6, Level.TOWNSHIP: 9}
HEADERS = {
    "provinces": ["code", "name"],
    "cities": ["code", "name", "provinceCode"],
    "areas": ["code", "name", "cityCode", "provinceCode"],
    "streets": ["code", "name", "areaCode", "provinceCode", "cityCode"],
}


def shipped_rows(stem: str) -> list[dict[str, str]]:
    """A shipped file read straight with the csv module, independently of divisions.py."""
    plain = SHIPPED_DIR / f"{stem}.csv"
    raw = (
        plain.read_bytes()
        if plain.exists()
        else gzip.decompress((SHIPPED_DIR / f"{stem}.csv.gz").read_bytes())
    )
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))


def is_statistical_code(code: str) -> bool:
    return len(code) == 6 and 71 <= int(code[-2:]) <= 79


@pytest.fixture(scope="module")
def gansu() -> dict[str, Division]:
    return {d.code: d for d in read_divisions(provinces=["62"])}


@pytest.fixture(scope="module")
def country() -> list[Division]:
    return read_divisions()


# ---------------------------------------------------------------- the shipped edition


def test_gansu_has_one_province_14_cities_and_88_county_level_rows(
    gansu: dict[str, Division],
) -> None:
    levels = Counter(d.level for d in gansu.values())
    assert levels[Level.PROVINCE] == 1
    assert levels[Level.CITY] == 14
    assert levels[Level.COUNTY] == 88
    assert gansu["62"].name == "甘肃省"
    assert all(code.startswith("62") for code in gansu)


def test_86_of_gansus_county_level_rows_are_administrative_counties(
    gansu: dict[str, Division],
) -> None:
    counties = [d for d in gansu.values() if d.level == Level.COUNTY]
    administrative = [d for d in counties if d.kind == UnitKind.ADMINISTRATIVE]
    assert len(administrative) == 86
    assert {d.code: d.kind for d in counties if d.kind != UnitKind.ADMINISTRATIVE} == {
        "620171": UnitKind.STATISTICAL,
        "620201": UnitKind.CITY_PROPER,
    }
    assert gansu["620171"].name == "兰州新区"
    assert gansu["620201"].name == "嘉峪关市"


def test_jingchuan_county_has_15_townships(gansu: dict[str, Division]) -> None:
    townships = [d for d in gansu.values() if d.parent_code == "620821"]
    assert gansu["620821"].name == "泾川县"
    assert len(townships) == 15
    assert all(d.level == Level.TOWNSHIP and d.code.startswith("620821") for d in townships)
    assert "城关镇" in {d.name for d in townships}


def test_the_whole_country_yields_every_row_of_every_file(country: list[Division]) -> None:
    levels = Counter(d.level for d in country)
    files = {
        Level.PROVINCE: "provinces",
        Level.CITY: "cities",
        Level.COUNTY: "areas",
        Level.TOWNSHIP: "streets",
    }
    for level, stem in files.items():
        assert levels[level] == len(shipped_rows(stem)), stem
    # The 2023 edition: about 2,978 county-level units and 41,352 townships.
    assert 2_900 < levels[Level.COUNTY] < 3_100
    assert 40_000 < levels[Level.TOWNSHIP] < 43_000
    assert len({d.code for d in country}) == len(country)


def test_codes_and_names_are_those_of_the_files(country: list[Division]) -> None:
    by_code = {d.code: d for d in country}
    for stem, level in (("cities", Level.CITY), ("areas", Level.COUNTY)):
        for row in shipped_rows(stem):
            division = by_code[row["code"]]
            assert (division.name, division.level) == (row["name"], level)


def test_parents_always_come_before_their_children(country: list[Division]) -> None:
    seen: set[str] = set()
    for division in country:
        if division.level == Level.PROVINCE:
            assert division.parent_code is None
        else:
            assert division.parent_code in seen, division
        seen.add(division.code)


def test_every_code_has_its_levels_width_and_begins_with_its_parents_code(
    country: list[Division],
) -> None:
    for division in country:
        assert len(division.code) == CODE_WIDTH[division.level], division
        if division.parent_code is not None:
            assert division.code.startswith(division.parent_code), division


def test_exactly_the_county_codes_ending_71_to_79_are_statistical_units(
    country: list[Division],
) -> None:
    expected = {row["code"] for row in shipped_rows("areas") if is_statistical_code(row["code"])}
    statistical = {d.code for d in country if d.kind == UnitKind.STATISTICAL}
    assert statistical == expected
    assert len(expected) > 100  # development zones exist in most provinces


def test_a_city_without_districts_is_the_city_itself_not_a_county(
    country: list[Division],
) -> None:
    cities = {row["code"]: row["name"] for row in shipped_rows("cities")}
    expected = {
        row["code"]
        for row in shipped_rows("areas")
        if not is_statistical_code(row["code"]) and cities[row["cityCode"]] == row["name"]
    }
    city_proper = {d.code for d in country if d.kind == UnitKind.CITY_PROPER}
    assert city_proper == expected
    assert {"620201", "441900"} <= city_proper  # 嘉峪关市, 东莞市


def test_a_province_filter_returns_only_that_province_and_all_of_it(
    country: list[Division],
) -> None:
    expected = [d for d in country if d.code[:2] in {"62", "11"}]
    assert read_divisions(provinces=["62", " 11 "]) == expected


def test_max_level_stops_before_the_townships(gansu: dict[str, Division]) -> None:
    counties_only = read_divisions(provinces=["62"], max_level=Level.COUNTY)
    assert counties_only == [d for d in gansu.values() if d.level <= Level.COUNTY]
    assert Level.TOWNSHIP not in {d.level for d in counties_only}


# ---------------------------------------------------------------- broken input

GOOD = {
    "provinces": [["62", "甘肃省"], ["63", "青海省"]],
    "cities": [["6208", "平凉市", "62"], ["6301", "西宁市", "63"]],
    "areas": [["620821", "泾川县", "6208", "62"], ["620823", "崇信县", "6208", "62"]],
    "streets": [
        ["620821100", "城关镇", "620821", "62", "6208"],
        ["620823100", "锦屏镇", "620823", "62", "6208"],
    ],
}


def write_file(
    directory: Path, stem: str, header: list[str], rows: list[list[str]], *, packed: bool = False
) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    data = buffer.getvalue().encode("utf-8")
    if packed:
        (directory / f"{stem}.csv.gz").write_bytes(gzip.compress(data))
    else:
        (directory / f"{stem}.csv").write_bytes(data)


def write_set(directory: Path, *, packed_streets: bool = False, **files: list[list[str]]) -> Path:
    """A small well-formed edition, with some files replaced by ``files``."""
    for stem, header in HEADERS.items():
        rows = files.get(stem, GOOD[stem])
        write_file(directory, stem, header, rows, packed=packed_streets and stem == "streets")
    return directory


def test_the_small_good_set_reads_cleanly(tmp_path: Path) -> None:
    divisions = read_divisions(write_set(tmp_path))
    assert [d.code for d in divisions] == [row[0] for stem in HEADERS for row in GOOD[stem]]


@pytest.mark.parametrize(
    ("files", "file", "row", "column"),
    [
        pytest.param(
            {"cities": [["6208", "平凉市", "62"], ["63O1", "西宁市", "63"]]},
            "cities.csv",
            3,
            "code",
            id="letter-O-in-a-code",
        ),
        pytest.param(
            {"areas": [["62082", "泾川县", "6208", "62"]]},
            "areas.csv",
            2,
            "code",
            id="code-too-short",
        ),
        pytest.param(
            {"provinces": [["62", "甘肃省"], ["063", "青海省"]]},
            "provinces.csv",
            3,
            "code",
            id="code-too-long",
        ),
        pytest.param(
            {"streets": [GOOD["streets"][0], ["620823100", "  ", "620823", "62", "6208"]]},
            "streets.csv",
            3,
            "name",
            id="blank-name",
        ),
        pytest.param(
            {"areas": [GOOD["areas"][0], ["620823", "崇信县", "", "62"]]},
            "areas.csv",
            3,
            "cityCode",
            id="empty-parent",
        ),
        pytest.param(
            {"areas": [GOOD["areas"][0], ["629901", "某县", "6299", "62"]]},
            "areas.csv",
            3,
            "cityCode",
            id="parent-does-not-exist",
        ),
        pytest.param(
            {"streets": [["620821100", "城关镇", "620823", "62", "6208"]]},
            "streets.csv",
            2,
            "areaCode",
            id="parent-is-another-county",
        ),
        pytest.param(
            {"areas": [*GOOD["areas"], ["620821", "泾川县", "6208", "62"]]},
            "areas.csv",
            4,
            "code",
            id="code-listed-twice",
        ),
    ],
)
def test_a_bad_row_is_named_by_file_line_and_column(
    tmp_path: Path, files: dict[str, list[list[str]]], file: str, row: int, column: str
) -> None:
    with pytest.raises(DivisionFileError) as raised:
        read_divisions(write_set(tmp_path, **files))
    error = raised.value
    assert (error.file, error.row, error.column) == (file, row, column)
    assert file in str(error)
    assert f"第 {row} 行" in str(error)
    assert f"「{column}」" in str(error)


@pytest.mark.parametrize(
    ("suffix", "kind"),
    [
        ("70", UnitKind.ADMINISTRATIVE),
        ("71", UnitKind.STATISTICAL),
        ("75", UnitKind.STATISTICAL),
        ("79", UnitKind.STATISTICAL),
        ("80", UnitKind.ADMINISTRATIVE),
    ],
)
def test_statistical_units_are_the_county_codes_ending_71_to_79_inclusive(
    tmp_path: Path, suffix: str, kind: UnitKind
) -> None:
    code = f"6208{suffix}"
    divisions = read_divisions(
        write_set(tmp_path, areas=[[code, "某区", "6208", "62"]], streets=[]),
    )
    assert {d.code: d.kind for d in divisions}[code] == kind


def test_a_missing_column_is_named(tmp_path: Path) -> None:
    write_set(tmp_path)
    write_file(tmp_path, "cities", ["code", "name"], [["6208", "平凉市"]])
    with pytest.raises(DivisionFileError) as raised:
        read_divisions(tmp_path)
    assert (raised.value.file, raised.value.row, raised.value.column) == (
        "cities.csv",
        2,
        "provinceCode",
    )
    assert "provinceCode" in str(raised.value)


def test_an_error_in_the_packed_township_file_names_the_packed_file(tmp_path: Path) -> None:
    bad = [GOOD["streets"][0], ["620823100", "", "620823", "62", "6208"]]
    write_set(tmp_path, packed_streets=True, streets=bad)
    with pytest.raises(DivisionFileError) as raised:
        read_divisions(tmp_path)
    assert (raised.value.file, raised.value.row, raised.value.column) == (
        "streets.csv.gz",
        3,
        "name",
    )


def test_line_numbers_count_blank_lines_as_a_spreadsheet_does(tmp_path: Path) -> None:
    write_set(tmp_path)
    (tmp_path / "provinces.csv").write_text("code,name\n62,甘肃省\n\n6X,青海省\n", "utf-8")
    with pytest.raises(DivisionFileError) as raised:
        read_divisions(tmp_path)
    assert raised.value.row == 4


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    write_set(tmp_path)
    (tmp_path / "areas.csv").unlink()
    with pytest.raises(FileNotFoundError, match=r"areas\.csv"):
        read_divisions(tmp_path)
    # Only the levels asked for are read.
    assert [d.level for d in read_divisions(tmp_path, max_level=Level.CITY)] == [
        Level.PROVINCE,
        Level.PROVINCE,
        Level.CITY,
        Level.CITY,
    ]


def test_an_error_outside_the_chosen_provinces_is_still_reported(tmp_path: Path) -> None:
    # A file is well-formed or not; a broken row elsewhere is not silently skipped.
    write_set(tmp_path, cities=[["6208", "平凉市", "62"], ["63x1", "西宁市", "63"]])
    with pytest.raises(DivisionFileError, match=r"cities\.csv"):
        read_divisions(tmp_path, provinces=["62"])


@pytest.mark.parametrize("province", ["99", "64"])
def test_an_unknown_province_is_refused_by_name(tmp_path: Path, province: str) -> None:
    write_set(tmp_path)
    with pytest.raises(ValueError, match=province) as raised:
        read_divisions(tmp_path, provinces=["62", province])
    assert not isinstance(raised.value, DivisionFileError)


@pytest.mark.parametrize("province", ["6", "620", "甘肃", "6a"])
def test_a_province_filter_that_is_not_two_digits_is_refused(province: str) -> None:
    with pytest.raises(ValueError, match=province):
        read_divisions(provinces=[province])


# ---------------------------------------------------------------- generated editions

names = st.text(
    alphabet="甘肃平凉泾川崇信县市区镇乡街道新,\"' ·（）", min_size=1, max_size=8
).filter(lambda name: name == name.strip())


def unique_codes(width: int, low: int = 1) -> st.SearchStrategy[list[str]]:
    numbers = st.lists(st.integers(low, 10**width - 1), unique=True, max_size=3)
    return numbers.map(lambda ns: [str(n).zfill(width) for n in ns])


@st.composite
def editions(draw: st.DrawFn) -> dict[str, list[list[str]]]:
    """A well-formed edition, as the rows of the four files."""
    files: dict[str, list[list[str]]] = {stem: [] for stem in HEADERS}
    provinces = draw(unique_codes(2, low=11).filter(bool))
    for p in provinces:
        files["provinces"].append([p, draw(names)])
        for c in (p + s for s in draw(unique_codes(2))):
            files["cities"].append([c, draw(names), p])
            for a in (c + s for s in draw(unique_codes(2))):
                files["areas"].append([a, draw(names), c, p])
                for t in (a + s for s in draw(unique_codes(3))):
                    files["streets"].append([t, draw(names), a, p, c])
    # Files are not sorted by code in the wild; shuffle each one.
    return {stem: draw(st.permutations(rows)) for stem, rows in files.items()}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(editions(), st.booleans())
def test_a_well_formed_edition_reads_back_as_written(
    files: dict[str, list[list[str]]], packed: bool
) -> None:
    levels = {
        "provinces": Level.PROVINCE,
        "cities": Level.CITY,
        "areas": Level.COUNTY,
        "streets": Level.TOWNSHIP,
    }
    expected = [
        (row[0], row[1], levels[stem], row[2] if len(row) > 2 else None)
        for stem in HEADERS
        for row in files[stem]
    ]
    city_names = {row[0]: row[1] for row in files["cities"]}
    with tempfile.TemporaryDirectory() as directory:
        divisions = read_divisions(write_set(Path(directory), packed_streets=packed, **files))
    assert [(d.code, d.name, d.level, d.parent_code) for d in divisions] == expected
    for d in divisions:
        if d.level == Level.COUNTY and is_statistical_code(d.code):
            assert d.kind == UnitKind.STATISTICAL
        elif d.level == Level.COUNTY and city_names[d.code[:4]] == d.name:
            assert d.kind == UnitKind.CITY_PROPER
        else:
            assert d.kind == UnitKind.ADMINISTRATIVE


@settings(max_examples=30, deadline=None)
@given(editions(), st.data())
def test_a_province_filter_keeps_exactly_the_rows_of_those_provinces(
    files: dict[str, list[list[str]]], data: st.DataObject
) -> None:
    all_provinces = [row[0] for row in files["provinces"]]
    chosen = data.draw(st.sets(st.sampled_from(all_provinces), min_size=1))
    with tempfile.TemporaryDirectory() as directory:
        everything = read_divisions(write_set(Path(directory), **files))
        some = read_divisions(Path(directory), provinces=chosen)
    assert some == [d for d in everything if d.code[:2] in chosen]
