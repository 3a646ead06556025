"""Every native-syntax file of the corpus against pydicom's reference decode."""

from __future__ import annotations

import pydicom
import pytest
from pydicom.pixels.utils import pixel_array

import dicomnp
from dicomnp.decode import decode_pixels
from support.corpus import (
    NATIVE_SYNTAXES,
    Entry,
    assert_matches_oracle,
    file_params,
    path_of,
    reference,
)

# Files pydicom's pixel_array(path) cannot decode, which dicomnp decodes: the
# reference is pydicom's decode of the data set read with force=True.
IMPROVEMENTS = {"files/ImplicitVRLittleEndian/OT-PAL-8-face.dcm"}


def _native(entry: Entry) -> bool:
    return entry["transfer_syntax_uid"] in NATIVE_SYNTAXES


@pytest.mark.parametrize("entry", file_params(_native))
def test_native_file_matches_oracle(entry: Entry) -> None:
    ref = reference(entry)
    if ref is None and entry["path"] not in IMPROVEMENTS:
        with pytest.raises(dicomnp.DicomNumpyError) as caught:
            decode_pixels(path_of(entry))
        assert str(path_of(entry)) in str(caught.value)
        return
    stored = decode_pixels(path_of(entry))
    assert stored.array.shape[0] == entry["number_of_frames"]
    if ref is None:
        dataset = pydicom.dcmread(path_of(entry), force=True)
        dataset.file_meta.TransferSyntaxUID = pydicom.uid.ImplicitVRLittleEndian
        expected = pixel_array(dataset, raw=True)
        assert (stored.array.reshape(expected.shape) == expected).all()
        return
    assert_matches_oracle(stored.array, entry, ref)


@pytest.mark.parametrize("entry", file_params(_native))
def test_native_file_decodes_the_same_from_every_source_kind(entry: Entry) -> None:
    if reference(entry) is None:
        pytest.skip("no reference decode for this file")
    path = path_of(entry)
    expected = decode_pixels(path).array
    data = path.read_bytes()
    with path.open("rb") as handle:
        from_file = decode_pixels(handle).array
    for array in (decode_pixels(str(path)).array, decode_pixels(data).array, from_file):
        assert array.dtype == expected.dtype
        assert (array == expected).all()
    dataset = pydicom.dcmread(path)
    assert (decode_pixels(dataset).array == expected).all()
