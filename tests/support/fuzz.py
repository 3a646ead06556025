"""A fuzz harness: broken and hostile files must give a dicomnp error at once, nothing else.

Seeds are valid files built in memory (every native layout, RLE, JPEG
lossless, JPEG 2000, deflate, encapsulated uncompressed, a series, an
enhanced image) plus small corpus files when the corpus is present. Each
case mutates one seed at the byte level (truncation, bit flips, huge lengths,
corrupted item tags, inflated frame counts, Rows and Columns 65535, ...) and
drives one public entry point with it. A case passes when it returns or
raises a :class:`dicomnp.DicomNumpyError` that names its file; it fails on
any other exception, on running past the time bound, on a traced memory peak
above the bound, or when an input file changed.

The short run is part of the test suite (``tests/robustness``). The long run::

    PYTHONPATH=tests python -m support.fuzz --cases 20000 --seed 1

runs the cases in a child process watched by this one: a case that hangs,
even inside a codec, is killed, reported and skipped.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import io
import os
import random
import resource
import select
import signal
import struct
import subprocess
import sys
import tempfile
import time
import traceback
import tracemalloc
import warnings
import zlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

import numpy as np
from pydicom.encaps import encapsulate
from pydicom.uid import UID

import dicomnp
from support.build import image_dataset, to_bytes
from support.corpus import CORPUS, manifest
from support.jpeg_lossless import encode_lossless
from support.series_build import enhanced_image, geometry_series

__all__ = [
    "CaseTimeout",
    "Outcome",
    "Seed",
    "checksum",
    "make_case",
    "run_case",
    "run_cases",
    "seeds",
    "watchdog",
]

TIME_BOUND = 5.0
"""Seconds one case may take; generous, so that a loaded machine does not fail it."""
MEMORY_BASE = 64 * 2**20
"""Traced bytes any case may use beyond a small multiple of its input."""
MEMORY_FACTOR = 16
FUZZ_MAX_BYTES = 256 * 2**20
"""The max_bytes passed by half of the cases; the others use the default."""

RLE = "1.2.840.10008.1.2.5"
DEFLATE = "1.2.840.10008.1.2.8.1"
JPEG_LOSSLESS = "1.2.840.10008.1.2.4.70"
J2K_LOSSLESS = "1.2.840.10008.1.2.4.90"
ENCAPSULATED_NATIVE = "1.2.840.10008.1.2.1.98"
IMPLICIT = "1.2.840.10008.1.2"
STAND_IN = "1.2.840.10008.1.2.4.50"
BIG_ENDIAN = "1.2.840.10008.1.2.2"


class CaseTimeout(KeyboardInterrupt):
    """Raised in the main thread when a case runs past its bound.

    A ``KeyboardInterrupt`` so that no ``except Exception`` in the library
    (nor the codec wrapper, which lets interrupts through) can swallow it.
    """


@dataclasses.dataclass(frozen=True)
class Seed:
    """A valid input to mutate: one file, or the files of a series."""

    name: str
    files: tuple[bytes, ...]


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What one case did."""

    case: str
    result: str
    """``ok``, ``error`` (a dicomnp error), or a failure: ``foreign``, ``timeout``,
    ``memory``, ``unnamed`` (an error that does not name its file), ``changed``."""
    detail: str = ""
    seconds: float = 0.0
    peak: int = 0

    @property
    def failed(self) -> bool:
        return self.result not in ("ok", "error")


# Seeds


def _frames_of(rng: np.random.Generator, frames: int, rows: int, columns: int, dtype: str) -> Any:
    info = np.iinfo(dtype)
    return rng.integers(
        info.min, info.max, size=(frames, rows, columns), dtype=dtype, endpoint=True
    )


def _encapsulated(
    frames: Sequence[bytes], syntax: str, rows: int, columns: int, bits: int, **extra: Any
) -> bytes:
    ds = image_dataset(
        encapsulate(list(frames)),
        rows=rows,
        columns=columns,
        bits_allocated=bits,
        frames=len(frames),
        syntax=syntax,
        vr="OB",
        **extra,
    )
    ds["PixelData"].is_undefined_length = True
    if syntax != DEFLATE:
        return to_bytes(ds)
    # pydicom writes no deflated-frame syntax: write JPEG Baseline, whose UID
    # has the same padded length, and put the real UID back.
    ds.file_meta.TransferSyntaxUID = UID(STAND_IN)
    return to_bytes(ds).replace(STAND_IN.encode(), DEFLATE.encode() + b"\0")


def _rle(frame: Any) -> bytes:
    from rle.utils import encode_pixel_data

    rows, columns = frame.shape[:2]
    samples = frame.shape[2] if frame.ndim == 3 else 1
    bits = frame.dtype.itemsize * 8
    return bytes(
        encode_pixel_data(
            frame.astype(f"<u{frame.dtype.itemsize}").tobytes(),
            rows=rows,
            columns=columns,
            samples_per_pixel=samples,
            bits_allocated=bits,
            byteorder="<",
        )
    )


def _j2k(frame: Any, bits: int) -> bytes:
    from openjpeg.utils import encode_array

    return bytes(encode_array(frame, bits_stored=bits, photometric_interpretation=2))


def built_seeds() -> list[Seed]:
    """Valid files written in memory by pydicom and the codec packages."""
    rng = np.random.default_rng(1)
    seeds: list[Seed] = []

    def native(name: str, data: bytes, **kwargs: Any) -> None:
        seeds.append(Seed(name, (to_bytes(image_dataset(data, **kwargs)),)))

    mono16 = _frames_of(rng, 3, 16, 12, "u2")
    native("native_u16_3f", mono16.tobytes(), rows=16, columns=12, bits_allocated=16, frames=3)
    native(
        "native_i16_12bit",
        (mono16[0].astype("i2") >> 4).tobytes(),
        rows=16,
        columns=12,
        bits_allocated=16,
        bits_stored=12,
        pixel_representation=1,
    )
    native(
        "native_u8_implicit",
        _frames_of(rng, 1, 9, 7, "u1").tobytes() + b"\0",
        rows=9,
        columns=7,
        bits_allocated=8,
        syntax=IMPLICIT,
    )
    native(
        "native_u16_big_endian",
        mono16[0].astype(">u2").tobytes(),
        rows=16,
        columns=12,
        bits_allocated=16,
        syntax=BIG_ENDIAN,
    )
    native(
        "native_rgb_planar",
        _frames_of(rng, 2, 8, 6, "u1").tobytes() * 3,
        rows=8,
        columns=6,
        bits_allocated=8,
        samples=3,
        planar=1,
        frames=2,
    )
    native(
        "native_ybr422",
        _frames_of(rng, 1, 4, 8, "u1").tobytes(),
        rows=4,
        columns=4,
        bits_allocated=8,
        samples=3,
        photometric="YBR_FULL_422",
    )
    native(
        "native_1bit_3f",
        np.packbits(rng.integers(0, 2, size=3 * 5 * 7), bitorder="little").tobytes(),
        rows=5,
        columns=7,
        bits_allocated=1,
        frames=3,
    )
    native(
        "native_float",
        rng.standard_normal((6, 5)).astype("<f4").tobytes(),
        rows=6,
        columns=5,
        bits_allocated=32,
        keyword="FloatPixelData",
    )
    palette = image_dataset(
        _frames_of(rng, 1, 4, 4, "u1").tobytes(),
        rows=4,
        columns=4,
        bits_allocated=8,
        photometric="PALETTE COLOR",
    )
    for colour in ("Red", "Green", "Blue"):
        setattr(palette, f"{colour}PaletteColorLookupTableDescriptor", [256, 0, 16])
        setattr(
            palette, f"{colour}PaletteColorLookupTableData", np.arange(256, dtype="<u2").tobytes()
        )
    seeds.append(Seed("native_palette", (to_bytes(palette),)))
    windowed = image_dataset(mono16[1].tobytes(), rows=16, columns=12, bits_allocated=16)
    windowed.RescaleSlope, windowed.RescaleIntercept = 2, -1024
    windowed.WindowCenter, windowed.WindowWidth = 40, 400
    windowed.PixelPaddingValue = 0
    seeds.append(Seed("native_windowed", (to_bytes(windowed),)))

    rle_frames = _frames_of(rng, 2, 10, 6, "u2")
    seeds.append(
        Seed(
            "rle_u16_2f",
            (_encapsulated([_rle(f) for f in rle_frames], RLE, 10, 6, 16),),
        )
    )
    j2k_frames = _frames_of(rng, 2, 33, 40, "u1")
    seeds.append(
        Seed(
            "j2k_u8_2f",
            (_encapsulated([_j2k(f, 8) for f in j2k_frames], J2K_LOSSLESS, 33, 40, 8),),
        )
    )
    jpeg = encode_lossless(_frames_of(rng, 1, 9, 11, "u2")[0][..., None] >> 4, 12)
    seeds.append(
        Seed(
            "jpeg_lossless_12bit",
            (_encapsulated([jpeg], JPEG_LOSSLESS, 9, 11, 16, bits_stored=12),),
        )
    )
    deflated = [
        zlib.compress(f.tobytes())[2:-4] for f in _frames_of(rng, 2, 8, 8, "u1")
    ]  # raw DEFLATE
    seeds.append(Seed("deflate_u8_2f", (_encapsulated(deflated, DEFLATE, 8, 8, 8),)))
    seeds.append(
        Seed(
            "encapsulated_native",
            (
                _encapsulated(
                    [f.tobytes() for f in _frames_of(rng, 2, 6, 6, "u1")],
                    ENCAPSULATED_NATIVE,
                    6,
                    6,
                    8,
                ),
            ),
        )
    )
    series = geometry_series(4, 6, 5)
    seeds.append(Seed("series_4", tuple(to_bytes(ds) for ds in series)))
    enhanced = enhanced_image([(0.0, 0.0, 2.0 * k) for k in range(3)])
    seeds.append(Seed("enhanced_3f", (to_bytes(enhanced),)))
    return seeds


def corpus_seeds(limit_bytes: int = 64_000) -> list[Seed]:
    """Small corpus files, when the corpus is present."""
    loaded = manifest()
    if loaded is None:
        return []
    found = []
    for entry in loaded["files"]:
        if int(entry["size"]) <= limit_bytes:
            path = CORPUS / str(entry["path"])
            found.append(Seed("corpus:" + str(entry["path"]), (path.read_bytes(),)))
    return found


def seeds(*, corpus: bool = True) -> list[Seed]:
    """Every seed: built ones first, then small corpus files."""
    return built_seeds() + (corpus_seeds() if corpus else [])


# Mutations


def _find_all(data: bytes | bytearray, needle: bytes) -> list[int]:
    found, start = [], 0
    while (position := data.find(needle, start)) >= 0:
        found.append(position)
        start = position + 1
    return found


def _value_offset(data: bytearray, position: int) -> tuple[int, int] | None:
    """Where the value of the element whose tag is at ``position`` starts, and its length field."""
    vr = bytes(data[position + 4 : position + 6])
    if vr.isalpha() and vr.isupper():
        if vr in (b"OB", b"OW", b"OF", b"OD", b"OL", b"OV", b"SQ", b"UN", b"UT", b"UC", b"UR"):
            return position + 12, position + 8
        return position + 8, position + 6
    return position + 8, position + 4


def _set_us(data: bytearray, tag: tuple[int, int], value: int) -> bool:
    needle = struct.pack("<HH", *tag)
    hits = _find_all(data, needle)
    for position in hits:
        located = _value_offset(data, position)
        if located is not None and located[0] + 2 <= len(data):
            data[located[0] : located[0] + 2] = struct.pack("<H", value & 0xFFFF)
    return bool(hits)


def _set_text(data: bytearray, tag: tuple[int, int], fill: bytes) -> bool:
    """Overwrite a text value (IS, DS, CS) in place with ``fill`` repeated to its length."""
    hits = _find_all(data, struct.pack("<HH", *tag))
    for position in hits:
        located = _value_offset(data, position)
        if located is None:
            continue
        start, length_at = located
        size = 2 if length_at == position + 6 else 4
        length = int.from_bytes(data[length_at : length_at + size], "little")
        if 0 < length <= 64 and start + length <= len(data):
            data[start : start + length] = (fill * length)[:length]
    return bool(hits)


def mutate(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    """One random mutation of ``data`` and its description."""
    out = bytearray(data)
    size = len(out)
    kind = rng.choice(
        [
            "truncate",
            "truncate",
            "flip",
            "flip",
            "bytes",
            "length",
            "item",
            "frames",
            "rows",
            "bits",
            "photometric",
            "splice",
            "zero_tail",
            "duplicate",
        ]
    )
    pixel = max(0, data.rfind(b"\xe0\x7f\x10\x00"))
    if kind == "truncate":
        cut = rng.choice([rng.randrange(size), pixel + rng.randrange(max(1, size - pixel))])
        return bytes(out[:cut]), f"truncate@{cut}"
    if kind == "flip":
        positions = [rng.randrange(size) for _ in range(rng.randint(1, 8))]
        for position in positions:
            out[position] ^= 1 << rng.randrange(8)
        return bytes(out), f"flip@{positions}"
    if kind == "bytes":
        start = rng.choice([rng.randrange(size), pixel + rng.randrange(max(1, size - pixel))])
        count = rng.randint(1, 32)
        out[start : start + count] = bytes(rng.randrange(256) for _ in range(count))
        return bytes(out[:size]), f"bytes@{start}+{count}"
    if kind == "length":
        # A length field (pixel element or an item) set huge or odd.
        candidates = [pixel + 8] + [p + 4 for p in _find_all(out, b"\xfe\xff\x00\xe0")]
        at = rng.choice(candidates)
        value = rng.choice([0xFFFFFFF0, 0x7FFFFFFF, 0xFFFFFFFF, rng.randrange(1 << 32), 1, 3])
        if at + 4 <= size:
            out[at : at + 4] = struct.pack("<L", value)
        return bytes(out), f"length@{at}={value:#x}"
    if kind == "item":
        items = _find_all(out, b"\xfe\xff\x00\xe0") + _find_all(out, b"\xfe\xff\xdd\xe0")
        if items:
            at = rng.choice(items)
            out[at : at + 4] = rng.choice([b"\xfe\xff\xdd\xe0", b"\xfe\xff\x0d\xe0", b"\0\0\0\0"])
            return bytes(out), f"item@{at}"
        return bytes(out), "item:none"
    if kind == "frames":
        fill = rng.choice([b"9", b"0", b"-", b"1", b" "])
        if not _set_text(out, (0x0028, 0x0008), fill):
            return bytes(out), "frames:none"
        return bytes(out), f"frames={fill!r}"
    if kind == "rows":
        value = rng.choice([65535, 0, 1, 32768])
        tags = rng.choice(
            [[(0x0028, 0x0010)], [(0x0028, 0x0011)], [(0x0028, 0x0010), (0x0028, 0x0011)]]
        )
        for tag in tags:
            _set_us(out, tag, value)
        return bytes(out), f"rows/columns {tags}={value}"
    if kind == "bits":
        tag = rng.choice(
            [
                (0x0028, 0x0100),
                (0x0028, 0x0101),
                (0x0028, 0x0102),
                (0x0028, 0x0103),
                (0x0028, 0x0002),
                (0x0028, 0x0006),
            ]
        )
        value = rng.choice([0, 1, 3, 7, 8, 12, 15, 16, 17, 31, 32, 64, 65535])
        _set_us(out, tag, value)
        return bytes(out), f"{tag}={value}"
    if kind == "photometric":
        fill = rng.choice([b"X", b"Y", b"P", b" ", b"\0", b"R"])
        _set_text(out, (0x0028, 0x0004), fill)
        return bytes(out), f"photometric={fill!r}"
    if kind == "splice":
        start = rng.randrange(size)
        count = rng.randint(1, 256)
        return bytes(out[:start] + out[start + count :]), f"delete@{start}+{count}"
    if kind == "zero_tail":
        start = pixel + rng.randrange(max(1, size - pixel))
        out[start:] = bytes(size - start)
        return bytes(out), f"zero_tail@{start}"
    start = rng.randrange(size)
    count = rng.randint(1, 512)
    return bytes(out[:start] + out[start : start + count] * 2 + out[start + count :]), (
        f"duplicate@{start}+{count}"
    )


# Running cases


def checksum(data: bytes | bytearray | memoryview) -> str:
    return hashlib.sha256(data).hexdigest()


def watchdog(seconds: float) -> Callable[[], None]:
    """Arm SIGALRM to raise :class:`CaseTimeout` after ``seconds``; return the disarm call."""

    def expire(signum: int, frame: FrameType | None) -> None:
        raise CaseTimeout(f"the case ran past {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)

    def disarm() -> None:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)

    return disarm


ENTRY_POINTS = (
    "decode_pixels",
    "to_array",
    "read",
    "iter_frames",
    "combine_series",
    "find_series",
)


def _call(entry: str, files: Sequence[bytes], folder: Path, options: dict[str, Any]) -> object:
    """Run one entry point on ``files``; return what it returned (consumed)."""
    paths = []
    for index, data in enumerate(files):
        path = folder / f"case{index}.dcm"
        path.write_bytes(data)
        paths.append(path)
    limit = options.get("max_bytes", 0)
    extra = {} if limit == 0 else {"max_bytes": limit}
    if entry == "decode_pixels":
        return dicomnp.decode_pixels(bytearray(files[0]), frames=options.get("frames"), **extra)
    if entry == "to_array":
        return dicomnp.to_array(
            files[0],
            values=options.get("values", "stored"),
            padding=options.get("padding", "keep"),
            allow_lossy=True,
            **extra,
        )
    if entry == "read":
        return dicomnp.read(str(paths[0]), workers=1, allow_lossy=True, **extra)
    if entry == "iter_frames":
        return list(dicomnp.iter_frames(io.BytesIO(files[0]), **extra))
    if entry == "combine_series":
        return dicomnp.combine_series([str(path) for path in paths])
    catalog = dicomnp.find_series(folder)
    return catalog.summary()


def _names_its_source(error: dicomnp.DicomNumpyError) -> bool:
    if error.path is not None:
        return True
    return isinstance(error, dicomnp.SeriesError) and bool(error.files)


def run_case(
    files: Sequence[bytes],
    entry: str,
    options: dict[str, Any],
    case: str,
    *,
    time_bound: float = TIME_BOUND,
    alarm: bool = True,
) -> Outcome:
    """Run one case under the watchdog, tracing memory; never raises but for interrupts."""
    with tempfile.TemporaryDirectory(prefix="dicomnp-fuzz-") as folder:
        before = [checksum(data) for data in files]
        tracemalloc.reset_peak()
        start_traced = tracemalloc.get_traced_memory()[0]
        disarm = watchdog(time_bound) if alarm else (lambda: None)
        start = time.perf_counter()
        result, detail = "ok", ""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                _call(entry, files, Path(folder), options)
        except CaseTimeout as exc:
            result, detail = "timeout", str(exc)
        except dicomnp.DicomNumpyError as exc:
            result = "error" if _names_its_source(exc) else "unnamed"
            detail = f"{type(exc).__name__}: {exc}"
        except Exception as exc:
            result = "foreign"
            detail = "".join(traceback.format_exception(exc))
        finally:
            disarm()
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1] - start_traced if tracemalloc.is_tracing() else 0
        written = sorted(Path(folder).iterdir())
        after = [checksum(path.read_bytes()) for path in written]
    if result in ("ok", "error"):
        bound = MEMORY_BASE + MEMORY_FACTOR * sum(len(data) for data in files)
        if seconds > time_bound:
            result, detail = "timeout", f"took {seconds:.2f} s"
        elif peak > bound:
            result, detail = "memory", f"traced peak {peak} bytes > {bound}"
        elif before != [checksum(data) for data in files] or after != before:
            result, detail = "changed", "an input changed"
    return Outcome(case, result, detail, seconds, peak)


def make_case(
    seed_list: Sequence[Seed], rng: random.Random
) -> tuple[str, Sequence[bytes], str, dict[str, Any]]:
    """Pick a seed, mutate it (one to three times), and pick an entry point and options."""
    seed = rng.choice(seed_list)
    files = list(seed.files)
    target = rng.randrange(len(files))
    steps = []
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        files[target], step = mutate(files[target], rng)
        steps.append(step)
    if len(files) > 1:
        entry = rng.choice(["combine_series", "combine_series", "find_series", "decode_pixels"])
        if entry == "decode_pixels":
            files = [files[target]]
    else:
        entry = rng.choice(ENTRY_POINTS)
    options: dict[str, Any] = {
        "max_bytes": rng.choice([0, FUZZ_MAX_BYTES]),
        "values": rng.choice(["stored", "modality", "display"]),
        "padding": rng.choice(["keep", "mask", "fill"]),
        "frames": rng.choice([None, None, 0, -1, slice(None, None, 2), [0, 0]]),
    }
    return f"{seed.name} {' '.join(steps)} -> {entry}", files, entry, options


def run_cases(
    count: int,
    seed: int,
    *,
    start: int = 0,
    corpus: bool = True,
    time_bound: float = TIME_BOUND,
    report: Callable[[int, Outcome], None] | None = None,
) -> Iterator[Outcome]:
    """Run cases ``start`` to ``count - 1`` of the run numbered ``seed``, in this process."""
    seed_list = seeds(corpus=corpus)
    started = tracemalloc.is_tracing()
    if not started:
        tracemalloc.start()
    try:
        for number in range(start, count):
            rng = random.Random(f"{seed}:{number}")
            case, files, entry, options = make_case(seed_list, rng)
            outcome = run_case(files, entry, options, f"#{number} {case}", time_bound=time_bound)
            if report is not None:
                report(number, outcome)
            yield outcome
    finally:
        if not started:
            tracemalloc.stop()


# The long run: a watched child process


def _child(args: argparse.Namespace) -> None:
    # Results go to the parent on the original stdout; anything else written
    # to stdout (by Python or a codec's C code) is sent to stderr instead.
    channel = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)

    def report(number: int, outcome: Outcome) -> None:
        line = "\t".join(
            [
                str(number),
                outcome.result,
                f"{outcome.seconds:.4f}",
                str(outcome.peak),
                outcome.case.replace("\t", " ").replace("\n", " "),
                outcome.detail.replace("\t", " ").replace("\n", "\\n")[:4000],
            ]
        )
        print(line, file=channel, flush=True)

    print(f"start\t{args.start}", file=channel, flush=True)
    for _ in run_cases(args.cases, args.seed, start=args.start, report=report):
        pass
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"rss\t{rss}", file=channel, flush=True)


def _parent(args: argparse.Namespace) -> int:
    counts: dict[str, int] = {}
    failures: list[str] = []
    peak_traced = 0
    peak_rss = 0
    slowest = 0.0
    next_case = 0
    began = time.monotonic()
    while next_case < args.cases:
        command = [
            sys.executable,
            "-m",
            "support.fuzz",
            "--child",
            "--cases",
            str(args.cases),
            "--seed",
            str(args.seed),
            "--start",
            str(next_case),
        ]
        env = dict(os.environ)
        tests = str(Path(__file__).resolve().parents[1])
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [tests, env.get("PYTHONPATH")]))
        child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
        assert child.stdout is not None
        current = next_case
        deadline = args.hang + 30.0  # the first case also pays for imports and seeds
        while True:
            ready, _, _ = select.select([child.stdout], [], [], deadline)
            if not ready:
                child.kill()
                child.wait()
                counts["hang"] = counts.get("hang", 0) + 1
                failures.append(f"#{current}: hang (no answer within {deadline:.0f} s)")
                next_case = current + 1
                break
            line = child.stdout.readline()
            if not line:
                child.wait()
                if child.returncode != 0 and next_case <= current:
                    counts["crash"] = counts.get("crash", 0) + 1
                    failures.append(f"#{current}: child died with {child.returncode}")
                    next_case = current + 1
                break
            fields = line.rstrip("\n").split("\t")
            if len(fields) < 2 or not fields[0].isascii() or not fields[-1:]:
                continue
            if fields[0] == "start":
                deadline = args.hang + 30.0
                continue
            if fields[0] == "rss":
                peak_rss = max(peak_rss, int(fields[1]))
                next_case = args.cases
                continue
            deadline = args.hang
            number, result, seconds, peak = (
                int(fields[0]),
                fields[1],
                float(fields[2]),
                int(fields[3]),
            )
            counts[result] = counts.get(result, 0) + 1
            peak_traced = max(peak_traced, peak)
            slowest = max(slowest, seconds)
            if result not in ("ok", "error"):
                failures.append(f"#{number}: {result}: {fields[4]}\n    {fields[5][:2000]}")
            current = number + 1
            next_case = current
        if next_case >= args.cases:
            break
    elapsed = time.monotonic() - began
    print(f"{args.cases} cases, seed {args.seed}, in {elapsed:.0f} s")
    print("outcomes: " + ", ".join(f"{key} {value}" for key, value in sorted(counts.items())))
    print(
        f"slowest case {slowest * 1000:.0f} ms; peak traced memory of a case "
        f"{peak_traced / 2**20:.1f} MiB; peak RSS of the child {peak_rss / 1024:.0f} MiB"
    )
    for failure in failures:
        print(failure)
    return 1 if failures else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m support.fuzz", description=__doc__)
    parser.add_argument("--cases", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--hang", type=float, default=60.0, help="seconds without progress")
    parser.add_argument("--start", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args)
        return 0
    return _parent(args)


if __name__ == "__main__":
    sys.exit(main())
