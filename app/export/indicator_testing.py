"""The specification's "Indicator testing" section in every format, from the exported
section alone (`spec["indicator_testing"]`, built by
`app.services.indicator_testing.specification_section`).

Self-contained so it can be placed anywhere in the document: HTML and PDF include
`templates/export/_indicator_testing.html`; Markdown calls `markdown_section`; DOCX calls
`docx_section`; the data zip adds `data_tables`.
"""

from __future__ import annotations

import io
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from app.services.indicator_testing import SYNTHETIC_LABEL, Plot, SectionView, view_of_section

TITLE = "Indicator testing"
INTRO = (
    "Where trust-level data were uploaded for an indicator, it was tested as regulators test "
    "indicators: a funnel plot with control limits at 95% and 99.8% around the overall value, "
    "adjusted for over-dispersion (Spiegelhalter 2005). This is evidence the panel could see; "
    "it is not a rating."
)


def sections(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return list(spec.get("indicator_testing") or [])


def testing_view(section: dict[str, Any]) -> SectionView:
    """For the HTML template's plot macro."""
    return view_of_section(section)


def _md(text: Any) -> str:
    from app.export.formats import md_text

    return str(md_text(text))


def markdown_section(spec: dict[str, Any], level: int = 2) -> list[str]:
    found = sections(spec)
    if not found:
        return []
    h = "#" * level
    out = [f"{h} {TITLE}", "", INTRO, ""]
    for t in found:
        out += [f"{h}# {t['ref']}: {_md(t['indicator'])}", ""]
        if t["synthetic"]:
            out += [f"> **{SYNTHETIC_LABEL}.** These trusts and numbers are made up.", ""]
        m = t["method"]
        out += [
            f"- **Data:** {_md(t['source'])}; period {_md(t['period'])}; {t['units']} trusts",
            f"- **Method:** over-dispersion {m['overdispersion']}, z-scores winsorised at "
            f"{m['winsorise'] * 100:g}%, limits at 95% and 99.8%; "
            + ("higher is better" if m["higher_is_better"] else "lower is better")
            + f"; overall value {t['target_shown']}",
            "",
        ]
        out += [f"- {s}." for s in t["sentences"]["counts"]]
        out += ["", t["sentences"]["dispersion"], "", t["sentences"]["reliability"], ""]
        if t["sentences"]["association"]:
            out += [t["sentences"]["association"], ""]
            if t["by_rating"]:
                out += ["| Rating | Trusts | Overall value |", "|---|---:|---:|"]
                out += [f"| {_md(g['rating'])} | {g['n']} | {g['shown']} |" for g in t["by_rating"]]
                out.append("")
        if t["flagged"]:
            out += ["Trusts outside the 95% limits:", ""]
            out += [
                f"- {_md(f['name'])} ({_md(f['code'])}): {f['value']}, {f['judgement'].lower()}"
                for f in t["flagged"]
            ]
            out.append("")
        out += [
            "The funnel plot and every trust's figures are in the HTML, PDF and Word versions "
            "and in the data export.",
            "",
        ]
    return out


# ---------------------------------------------------------------- a PNG for the Word document

COLOURS = {
    "needs-improvement": (0xD5, 0x28, 0x1B),
    "good": (0x00, 0x7F, 0x3B),
    "as-expected": (0x76, 0x86, 0x92),
}


def _font(size: int) -> Any:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has one size only
        return ImageFont.load_default()


def png_of(plot: Plot, scale: int = 2) -> bytes:
    """The same funnel plot as the SVG, drawn with Pillow (Word cannot show SVG)."""
    k = scale
    image = Image.new("RGB", (plot.width * k, plot.height * k), "white")
    draw = ImageDraw.Draw(image)
    font = _font(11 * k)
    ink = (0x21, 0x2B, 0x32)
    left, top = plot.left * k, plot.top * k
    right, bottom = (plot.width - plot.right) * k, (plot.height - plot.bottom) * k
    draw.rectangle([left, top, right, bottom], outline=(0xAE, 0xB7, 0xBD), width=k)
    for y, label in plot.y_ticks:
        draw.line([left - 4 * k, y * k, left, y * k], fill=ink, width=k)
        draw.text((left - 6 * k, y * k), label, fill=ink, font=font, anchor="rm")
    for x, label in plot.x_ticks:
        draw.line([x * k, bottom, x * k, bottom + 4 * k], fill=ink, width=k)
        draw.text((x * k, bottom + 6 * k), label, fill=ink, font=font, anchor="mt")
    draw.text(
        ((left + right) / 2, plot.height * k - 4 * k),
        plot.x_label,
        fill=ink,
        font=font,
        anchor="md",
    )
    draw.text((4 * k, top - 2 * k), plot.y_label, fill=ink, font=font, anchor="ls")
    draw.line(
        [left, plot.target_y * k, right, plot.target_y * k], fill=(0, 0x5E, 0xB8), width=2 * k
    )
    for name, points in plot.curve_points.items():
        scaled = [(a * k, b * k) for a, b in points]
        if name.endswith("95"):
            for i in range(0, len(scaled) - 1, 2):  # dashed, as in the SVG
                draw.line(scaled[i : i + 2], fill=(0x4C, 0x62, 0x72), width=k)
        else:
            draw.line(scaled, fill=ink, width=2 * k)
    ordered = sorted(plot.points, key=lambda p: p[2] != "as-expected")
    for x, y, judged, _code in ordered:
        cx, cy = x * k, y * k
        colour = COLOURS.get(judged, COLOURS["as-expected"])
        if judged == "needs-improvement":
            draw.rectangle(
                [cx - 4 * k, cy - 4 * k, cx + 4 * k, cy + 4 * k], fill=colour, outline=ink
            )
        elif judged == "good":
            r = 5.5 * k
            draw.polygon(
                [(cx, cy - r), (cx + r, cy), (cx, cy + r), (cx - r, cy)], fill=colour, outline=ink
            )
        else:
            draw.ellipse([cx - 3 * k, cy - 3 * k, cx + 3 * k, cy + 3 * k], fill=colour)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False, compress_level=3)
    return out.getvalue()


def docx_section(doc: Any, spec: dict[str, Any], heading: Any, table: Any, level: int = 1) -> None:
    """Add the section to a python-docx document; `heading(doc, text, level)` and
    `table(doc, TextTable, caption=)` are the document's own helpers."""
    from docx.shared import Inches

    found = sections(spec)
    if not found:
        return
    heading(doc, TITLE, level)
    doc.add_paragraph(INTRO)
    for t in found:
        heading(doc, f"{t['ref']}: {t['indicator']}", level + 1)
        if t["synthetic"]:
            para = doc.add_paragraph()
            para.add_run(f"{SYNTHETIC_LABEL}. ").bold = True
            para.add_run("These trusts and numbers are made up to show how the method works.")
        m = t["method"]
        doc.add_paragraph(
            f"Data: {t['source']}; period {t['period']}; {t['units']} trusts. Method: "
            f"over-dispersion {m['overdispersion']}, z-scores winsorised at "
            f"{m['winsorise'] * 100:g}%, limits at 95% and 99.8%; "
            + ("higher is better" if m["higher_is_better"] else "lower is better")
            + f"; overall value {t['target_shown']}."
        )
        for sentence in t["sentences"]["counts"]:
            doc.add_paragraph(sentence + ".", style="List Bullet")
        view = view_of_section(t)
        doc.add_picture(io.BytesIO(png_of(view.plot)), width=Inches(6))
        doc.add_paragraph(
            f"Funnel plot for {t['ref']}"
            + (" (synthetic data, for illustration)" if t["synthetic"] else "")
            + ". Blue line: overall value; dashed curves: 95% limits; solid curves: 99.8% "
            "limits; red squares: needs improvement; green diamonds: good; grey dots: as "
            "expected."
        )
        doc.add_paragraph(t["sentences"]["dispersion"])
        doc.add_paragraph(t["sentences"]["reliability"])
        if t["sentences"]["association"]:
            doc.add_paragraph(t["sentences"]["association"])
        if t["flagged"]:
            table(
                doc,
                (
                    ["Trust", "Value", "Judgement"],
                    [
                        [f"{f['name']} ({f['code']})", f["value"], f["judgement"]]
                        for f in t["flagged"]
                    ],
                ),
                caption=f"Trusts outside the 95% limits for {t['ref']}",
            )
