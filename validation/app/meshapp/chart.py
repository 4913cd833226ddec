"""validation/RESULTS.svg: predicted vs measured per condition, as a chart.

One group of bars per condition: the relative error of the prediction for
throughput, mean, p50 and p99 (and the lag peak where there is one), on a
common axis, with the issue's goals as shaded bands (±5%, ±10%, ±20%). Plain
SVG written by hand: no plotting package in the testbed's environment.
"""

from xml.sax.saxutils import escape

COLOURS = {"throughput_per_s": "#4c72b0", "mean_ms": "#55a868", "p50_ms": "#8172b2",
           "p99_ms": "#c44e52", "lag_peak": "#dd8452"}
LIMIT = 0.6  # the axis spans ±60%; larger errors are clipped and labelled


def svg(rows) -> bytes:
    conds = list(dict.fromkeys(r[0] for r in rows))
    metrics = [k for k in COLOURS if any(r[1] == k for r in rows)]
    w, h, left, top, plot_h = 120 + 110 * len(conds), 420, 60, 30, 300
    mid = top + plot_h / 2

    def y(err):
        return mid - max(-LIMIT, min(LIMIT, err)) / LIMIT * plot_h / 2

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
           f'font-family="sans-serif" font-size="11">',
           f'<rect width="{w}" height="{h}" fill="white"/>']
    for band, shade in ((0.2, "#f4f4f4"), (0.1, "#e8e8e8"), (0.05, "#dcdcdc")):
        out.append(f'<rect x="{left}" y="{y(band):.1f}" width="{w - left - 10}" '
                   f'height="{y(-band) - y(band):.1f}" fill="{shade}"/>')
    for tick in (-0.6, -0.4, -0.2, 0, 0.2, 0.4, 0.6):
        out.append(f'<text x="{left - 5}" y="{y(tick) + 4:.1f}" text-anchor="end">'
                   f'{100 * tick:+.0f}%</text>')
    out.append(f'<line x1="{left}" x2="{w - 10}" y1="{mid}" y2="{mid}" stroke="black"/>')
    bar = 90 / max(1, len(metrics))
    for i, cond in enumerate(conds):
        x0 = left + 10 + 110 * i
        for j, k in enumerate(metrics):
            err = next((r[4] for r in rows if r[0] == cond and r[1] == k), None)
            if err is None or err != err:
                continue
            y0, y1 = sorted((y(err), mid))
            out.append(f'<rect x="{x0 + j * bar:.1f}" y="{y0:.1f}" width="{bar - 2:.1f}" '
                       f'height="{max(0.5, y1 - y0):.1f}" fill="{COLOURS[k]}"/>')
            if abs(err) > LIMIT:
                out.append(f'<text x="{x0 + j * bar:.1f}" y="{y(err) - 3:.1f}" font-size="9">'
                           f'{100 * err:+.0f}%</text>')
        out.append(f'<text x="{x0 + 45}" y="{top + plot_h + 18}" text-anchor="middle">'
                   f'{escape(cond.split(" ")[0])}</text>')
    for j, k in enumerate(metrics):
        out.append(f'<rect x="{left + 130 * j}" y="{h - 40}" width="10" height="10" '
                   f'fill="{COLOURS[k]}"/><text x="{left + 14 + 130 * j}" y="{h - 31}">{k}</text>')
    out.append(f'<text x="{left}" y="18" font-size="13">meshsim predicted vs the testbed '
               'measured: relative error per condition (bands: ±5, ±10, ±20%)</text></svg>')
    return "\n".join(out).encode()
