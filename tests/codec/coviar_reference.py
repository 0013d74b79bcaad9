"""A literal, slow port of CoViAR's ``coviar_data_loader.c`` (raw and accumulated MV/residual),
used only to check that mc="coviar" reproduces its integer values (with our sign)."""

from __future__ import annotations

import av
import numpy as np


def coviar_gop(path: str, gop: int, pos_target: int, accumulate: bool):
    """CoViAR's (mv, residual) for frame ``pos_target`` of GOP ``gop``: CoViAR's sign
    (dst - src) and channel order RGB (CoViAR uses BGR; the difference is only the order)."""
    with av.open(path) as c:
        s = c.streams.video[0]
        s.codec_context.options = {"flags2": "+export_mvs"}
        frames = []
        for f in c.decode(s):
            frames.append(f)
            if len(frames) == gop * 12 + pos_target + 1:
                break
        start = gop * 12
        h, w = frames[0].height, frames[0].width
        accu_src = np.zeros((w, h, 2), np.int32)
        for x in range(w):
            for y in range(h):
                accu_src[x, y] = (x, y)
        accu_old = accu_src.copy()
        rgbs = [f.to_ndarray(format="rgb24", threads=1).astype(np.int32) for f in frames[start:]]
        mv = np.zeros((h, w, 2), np.int32)
        for cur_pos in range(1, pos_target + 1):
            f = frames[start + cur_pos]
            sd = f.side_data.get("MOTION_VECTORS")
            recs = sd.to_ndarray() if sd is not None else []
            if not accumulate:
                mv[:] = 0
            for r in recs:
                src_x, src_y = int(r["src_x"]), int(r["src_y"])
                dst_x, dst_y = int(r["dst_x"]), int(r["dst_y"])
                if dst_x - src_x == 0 and dst_y - src_y == 0:
                    continue
                val_x, val_y = dst_x - src_x, dst_y - src_y
                bw, bh = int(r["w"]), int(r["h"])
                for xs in range(-bw // 2, bw // 2):
                    for ys in range(-bh // 2, bh // 2):
                        pdx, pdy = dst_x + xs, dst_y + ys
                        psx, psy = src_x + xs, src_y + ys
                        if 0 <= pdy < h and 0 <= pdx < w and 0 <= psy < h and 0 <= psx < w:
                            if accumulate:
                                accu_src[pdx, pdy] = accu_old[psx, psy]
                            else:
                                mv[pdy, pdx] = (val_x, val_y)
            if accumulate:
                accu_old = accu_src.copy()
        res = np.zeros((h, w, 3), np.int32)
        prev, cur = rgbs[pos_target - 1], rgbs[pos_target]
        for y in range(h):
            for x in range(w):
                if accumulate:
                    sx, sy = accu_src[x, y]
                    mv[y, x] = (x - sx, y - sy)
                    res[y, x] = cur[y, x] - rgbs[0][sy, sx]
                else:
                    sx, sy = x - mv[y, x, 0], y - mv[y, x, 1]
                    res[y, x] = cur[y, x] - prev[sy, sx]
        return mv, res
