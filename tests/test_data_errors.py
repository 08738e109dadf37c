"""Raw data errors are found early and reported with what is really wrong."""

from __future__ import annotations

import pytest
from datafiles import encode_cdb, digit_images, sha256_of
from test_data_prepare import hoda_mirror, output_files, run  # noqa: F401 (fixture)

from ddpm.data import fetch_raw
from ddpm.data import split_builders
from ddpm.data.hoda_cdb import check_cdb, read_cdb
from ddpm.data.imaging import decode_image
from ddpm.errors import DataError, MissingRawFilesError


def test_a_damaged_hoda_val_file_stops_before_any_image_is_processed(tmp_path, hoda_mirror, monkeypatch):  # noqa: F811
    path = hoda_mirror / "hoda_digits" / "RemainingSamples.cdb"
    path.write_bytes(path.read_bytes() + b"\x00")
    processed = []
    original = split_builders.normalise_digit
    monkeypatch.setattr(split_builders, "normalise_digit", lambda *a: processed.append(1) or original(*a))
    with pytest.raises(DataError, match=r"RemainingSamples\.cdb: 1 trailing bytes at offset"):
        run(tmp_path, "hoda", {"source": "hoda", "sha256": {path.name: sha256_of(path)}}, mirror=hoda_mirror)
    assert processed == [] and output_files(tmp_path / "data" / "hoda") == []


def test_check_cdb_finds_what_read_cdb_finds_in_the_framing(tmp_path):
    data = bytearray(encode_cdb(digit_images(5), [0, 1, 2, 3, 4]))
    good = tmp_path / "good.cdb"
    good.write_bytes(bytes(data))
    assert check_cdb(good).total_records == 5
    data[1024] = 0x00  # the first record's start marker
    bad = tmp_path / "bad.cdb"
    bad.write_bytes(bytes(data))
    for reader in (check_cdb, read_cdb):
        with pytest.raises(DataError, match=r"bad\.cdb: record 0 at offset 1024: start marker 0x00"):
            reader(bad)


def test_a_mirror_that_does_not_exist_is_reported_as_such(tmp_path):
    missing = tmp_path / "no-such-mirror"
    with pytest.raises(MissingRawFilesError, match=f"The mirror {missing} does not exist"):
        fetch_raw("mnist", tmp_path / "raw", mirror=missing, download=False)


def test_an_existing_mirror_is_not_reported_missing(tmp_path):
    (tmp_path / "mirror").mkdir()
    with pytest.raises(MissingRawFilesError) as caught:
        fetch_raw("mnist", tmp_path / "raw", mirror=tmp_path / "mirror", download=False)
    assert "does not exist" not in str(caught.value)


def test_an_undecodable_image_is_named_by_its_file_not_by_a_buffer():
    with pytest.raises(DataError) as caught:
        decode_image(b"not an image", "captcha/22d5n.png", "L")
    message = str(caught.value)
    assert message.startswith("captcha/22d5n.png: the image does not decode (cannot identify image file)")
    assert "BytesIO" not in message and "0x" not in message


def test_every_source_of_cdb_files_checks_their_structure_before_processing():
    """The two CDB layouts (digits, letters) each name their own check on their registry entry."""
    from ddpm.data import SOURCES
    from ddpm.data.hoda_cdb import check_cdb
    from ddpm.data.persian_letters_cdb import read_letters_cdb

    with_cdb = {key for key, source in SOURCES.items() if any(f.name.endswith(".cdb") for f in source.raw_files)}
    assert with_cdb == {"hoda", "persian_letters"}
    assert SOURCES["hoda"].check_raw_file is check_cdb
    assert SOURCES["persian_letters"].check_raw_file is read_letters_cdb
