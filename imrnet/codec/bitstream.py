"""Minimal MPEG-4 Part 2 (ISO/IEC 14496-2) header parsing.

FFmpeg does not export two things the reader needs: the VOL's coding tools (quarter-pel,
global motion compensation, interlacing), which decide whether exact motion compensation is
possible, and each VOP's `vop_rounding_type` and `vop_quant`. Both sit in the first few bytes of
the headers, so we read them here instead of inferring them. Anything this parser does not
understand (shaped objects, complexity estimation, NEWPRED) makes it return ``None`` and the
caller falls back to inference.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["VolHeader", "VopHeader", "parse_vol", "parse_vop", "find_start_code"]

VOL_START_MIN, VOL_START_MAX = 0x20, 0x2F
VOP_START = 0xB6
SHAPE_RECTANGULAR, SHAPE_BINARY_ONLY, SHAPE_GRAYSCALE = 0, 2, 3
SPRITE_NONE, SPRITE_STATIC, SPRITE_GMC = 0, 1, 2
VOP_TYPES = "IPBS"


class _Bits:
    """Big-endian bit reader over a bytes prefix."""

    def __init__(self, data: bytes):
        self.value = int.from_bytes(data, "big")
        self.left = len(data) * 8

    def read(self, n: int) -> int:
        if n > self.left:
            raise EOFError
        self.left -= n
        return (self.value >> self.left) & ((1 << n) - 1)


def find_start_code(data: bytes, lo: int, hi: int, start: int = 0) -> int:
    """Byte offset just after the first start code 00 00 01 xx with lo <= xx <= hi, or -1."""
    pos = data.find(b"\x00\x00\x01", start)
    while pos >= 0 and pos + 3 < len(data):
        if lo <= data[pos + 3] <= hi:
            return pos + 4
        pos = data.find(b"\x00\x00\x01", pos + 1)
    return -1


@dataclass(frozen=True)
class VolHeader:
    """The Video Object Layer fields the reader needs."""

    verid: int
    shape: int
    time_increment_bits: int
    width: int
    height: int
    interlaced: bool
    sprite: int
    quant_precision: int
    quarter_sample: bool
    newpred: bool
    reduced_resolution: bool
    complexity_estimation: bool


@dataclass(frozen=True)
class VopHeader:
    """One Video Object Plane header: type ('I', 'P', 'B', 'S'), coded flag, rounding, quant."""

    vop_type: str
    coded: bool
    rounding: int | None
    quant: int | None


def _skip_matrix(br: _Bits) -> None:
    for _ in range(64):  # 2..64 values, a zero ends the list early
        if br.read(8) == 0:
            return


def _vol_preamble(br: _Bits) -> tuple[int, int, int]:
    """(verid, shape, time increment bits) from the VOL's start to its fixed VOP rate."""
    br.read(1 + 8)  # random_accessible_vol, video_object_type_indication
    verid = 1
    if br.read(1):  # is_object_layer_identifier
        verid = br.read(4)
        br.read(3)
    if br.read(4) == 15:  # aspect_ratio_info == extended PAR
        br.read(16)
    if br.read(1):  # vol_control_parameters
        br.read(3)  # chroma_format, low_delay
        if br.read(1):  # vbv_parameters
            br.read(79)
    shape = br.read(2)
    if shape == SHAPE_GRAYSCALE and verid != 1:
        br.read(4)
    br.read(1)
    resolution = br.read(16)
    br.read(1)
    tib = max(1, (resolution - 1).bit_length())
    if br.read(1):  # fixed_vop_rate
        br.read(tib)
    return verid, shape, tib


def _vol_sprite(br: _Bits, verid: int) -> int:
    sprite = br.read(1 if verid == 1 else 2)
    if sprite in (SPRITE_STATIC, SPRITE_GMC):
        if sprite != SPRITE_GMC:
            br.read(56)
        br.read(6 + 2 + 1)
        if sprite != SPRITE_GMC:
            br.read(1)
    return sprite


def _vol_quant(br: _Bits) -> int:
    """quant_precision, the quantisation matrices skipped."""
    quant_precision = 5
    if br.read(1):  # not_8_bit
        quant_precision = br.read(4)
        br.read(4)
    if br.read(1):  # quant_type (MPEG quantisation)
        if br.read(1):
            _skip_matrix(br)
        if br.read(1):
            _skip_matrix(br)
    return quant_precision


def _vol_tools(br: _Bits, verid: int) -> tuple[bool, bool, bool, bool]:
    """(quarter_sample, complexity_estimation, newpred, reduced_resolution)."""
    quarter_sample = bool(br.read(1)) if verid != 1 else False
    complexity = not br.read(1)
    newpred = reduced = False
    if not complexity:
        br.read(1)  # resync_marker_disable
        if br.read(1):  # data_partitioned
            br.read(1)
        if verid != 1:
            newpred = bool(br.read(1))
            if newpred:
                br.read(3)
            reduced = bool(br.read(1))
    return quarter_sample, complexity, newpred, reduced


def parse_vol(data: bytes) -> VolHeader | None:
    """Parse the first VOL header in ``data`` (extradata or a packet); None if absent/unparsable."""
    pos = find_start_code(data, VOL_START_MIN, VOL_START_MAX)
    if pos < 0:
        return None
    br = _Bits(data[pos : pos + 256])
    try:
        verid, shape, tib = _vol_preamble(br)
        if shape != SHAPE_RECTANGULAR:
            return None  # shaped objects: not something a video dataset contains
        br.read(1)
        width = br.read(13)
        br.read(1)
        height = br.read(13)
        br.read(1)
        interlaced = bool(br.read(1))
        br.read(1)  # obmc_disable
        sprite = _vol_sprite(br, verid)
        quant_precision = _vol_quant(br)
        quarter_sample, complexity, newpred, reduced = _vol_tools(br, verid)
    except EOFError:
        return None
    return VolHeader(verid, shape, tib, width, height, interlaced, sprite, quant_precision,
                     quarter_sample, newpred, reduced, complexity)


def parse_vop(data: bytes, vol: VolHeader) -> VopHeader | None:
    """Parse the first VOP header in a packet; None if absent or unparsable with this VOL."""
    if vol.complexity_estimation or vol.newpred:
        return None
    pos = find_start_code(data, VOP_START, VOP_START)
    if pos < 0:
        return None
    br = _Bits(data[pos : pos + 16])
    try:
        vop_type = VOP_TYPES[br.read(2)]
        while br.read(1):  # modulo_time_base
            pass
        br.read(1 + vol.time_increment_bits + 1)
        if not br.read(1):
            return VopHeader(vop_type, False, None, None)
        rounding = None
        if vop_type == "P" or (vop_type == "S" and vol.sprite == SPRITE_GMC):
            rounding = br.read(1)
        if vol.reduced_resolution and vop_type in "IP":
            br.read(1)
        br.read(3)  # intra_dc_vlc_thr
        if vol.interlaced:
            br.read(2)
        if vop_type == "S":
            return VopHeader(vop_type, True, rounding, None)
        quant = br.read(vol.quant_precision)
    except EOFError:
        return None
    return VopHeader(vop_type, True, rounding, quant)
