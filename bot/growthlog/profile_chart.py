"""The "jagged profile" as a PNG: one line per self-assessment across the matrix's capabilities.

x: the capabilities, grouped by matrix stage; y: the roles, Intern at the bottom. A dashed line
marks the role the engineer's level maps to; the capabilities furthest below and above it are
coloured, and named under the chart with what moved since the previous assessment.

Rendering uses matplotlib's object API on the Agg canvas only: no pyplot, so no global figure
state shared between the threads that serve requests. matplotlib's font and text caches are not
guaranteed thread-safe, so one lock serialises rendering (a chart takes a fraction of a second).
"""

from __future__ import annotations

import io
import math
import textwrap
import threading
from dataclasses import dataclass

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.transforms import blended_transform_factory

from bot.catalog.model import Catalog
from bot.growthlog.assessment import (
    Profile,
    furthest,
    matrix_of,
    movement,
    role_names,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
WIDTH_IN, DPI = 14.0, 110
# The layout in inches, top to bottom: titles and legend, the plot, the rotated capability names,
# then one row per note line (the figure grows with the notes so they never overlap the names).
HEAD_IN, PLOT_IN, NAMES_IN, NOTE_LINE_IN, MARGIN_IN = 1.6, 3.6, 1.7, 0.21, 0.15
NOTE_WIDTH = 170                      # characters per note line under the chart
BELOW_COLOUR, ABOVE_COLOUR, REFERENCE_COLOUR = "#b03a2e", "#1e8449", "#c0392b"
SERIES_COLOURS = ("#aec7e8", "#6baed6", "#3182bd", "#08306b")   # oldest → newest

_render_lock = threading.Lock()


@dataclass(frozen=True)
class Series:
    label: str                             # the assessment's date
    values: tuple[int | None, ...]         # role index per capability; None = not picked


@dataclass(frozen=True)
class ChartData:
    title: str
    subtitle: str
    stages: tuple[tuple[str, int], ...]    # stage name, how many capabilities it has (in x order)
    capabilities: tuple[str, ...]
    roles: tuple[str, ...]                 # role names, bottom to top
    series: tuple[Series, ...]             # oldest first; the last one is drawn boldest
    reference: int | None                  # role index of the reference line
    reference_label: str
    below: frozenset[int] = frozenset()    # capability indexes furthest below the reference
    above: frozenset[int] = frozenset()
    notes: tuple[str, ...] = ()            # plain-text lines under the chart


def chart_data(catalog: Catalog, profile: Profile, title: str) -> ChartData:
    """What to draw for `profile` (plain text throughout: the chart is not mrkdwn)."""
    matrix = matrix_of(catalog)
    if matrix is None:
        raise ValueError("the engineering-levels framework has no capability matrix")
    names = role_names(catalog)
    capabilities = [cap for _, cap in matrix.capabilities()]
    series = tuple(
        Series(snapshot.label(profile.tz), tuple(
            matrix.roles.index(snapshot.picks[cap.id]) if snapshot.picks.get(cap.id) in matrix.roles else None
            for cap in capabilities))
        for snapshot in profile.snapshots
    )
    latest = profile.snapshots[-1]
    reference = profile.reference
    notes: list[str] = [reference.note]
    below: frozenset[int] = frozenset()
    above: frozenset[int] = frozenset()
    index = {cap.id: i for i, cap in enumerate(capabilities)}
    if reference.role is not None:
        extremes = furthest(catalog, latest.picks, reference.role)
        below = frozenset(index[g.capability_id] for g in extremes.below)
        above = frozenset(index[g.capability_id] for g in extremes.above)
        for title_, found in (("Furthest below", extremes.below), ("Furthest above", extremes.above)):
            if found:
                notes.append(f"{title_} {reference.role_name} ({abs(found[0].distance)} role"
                             f"{'s' if abs(found[0].distance) != 1 else ''}): " + ", ".join(g.name for g in found))
    if len(profile.snapshots) >= 2:
        previous = profile.snapshots[-2]
        moved = movement(catalog, previous.picks, latest.picks)
        parts = [f"{word} {', '.join(f'{m.name} ({names[m.before]} → {names[m.after]})' for m in moves)}"
                 for word, moves in (("up:", moved.up), ("down:", moved.down)) if moves]
        notes.append(f"Since {previous.label(profile.tz)}: " + ("; ".join(parts) if parts else "no change") + ".")
    subtitle = f"{len(profile.snapshots)} assessment{'s' if len(profile.snapshots) != 1 else ''}, latest " \
               f"{latest.label(profile.tz)} · {len(latest.picks)} of {len(capabilities)} capabilities picked"
    return ChartData(
        title=title,
        subtitle=subtitle,
        stages=tuple((stage.name, len(stage.capabilities)) for stage in matrix.stages),
        capabilities=tuple(cap.name for cap in capabilities),
        roles=tuple(names[r] for r in matrix.roles),
        series=series,
        reference=matrix.roles.index(reference.role) if reference.role else None,
        reference_label=f"Your level: {reference.role_name}" if reference.role else "",
        below=below,
        above=above,
        notes=tuple(notes),
    )


def profile_png(catalog: Catalog, profile: Profile, title: str) -> bytes:
    return render_png(chart_data(catalog, profile, title))


def render_png(data: ChartData) -> bytes:
    """The chart as PNG bytes."""
    notes = [line for note in data.notes for line in textwrap.wrap(note, NOTE_WIDTH)]
    height = HEAD_IN + PLOT_IN + NAMES_IN + NOTE_LINE_IN * len(notes) + 2 * MARGIN_IN
    with _render_lock:
        figure = Figure(figsize=(WIDTH_IN, height), dpi=DPI)
        FigureCanvasAgg(figure)
        _draw(figure, data, notes, height)
        out = io.BytesIO()
        figure.savefig(out, format="png", dpi=DPI)
    return out.getvalue()


def _draw(figure: Figure, data: ChartData, notes: list[str], height: float) -> None:
    top = 1 - HEAD_IN / height
    figure.subplots_adjust(left=0.07, right=0.985, top=top, bottom=top - PLOT_IN / height)
    ax = figure.add_subplot()
    count = len(data.capabilities)
    xs = list(range(count))

    # Stages: alternate shading, names above the plot.
    above_axes = blended_transform_factory(ax.transData, ax.transAxes)
    start = 0
    for i, (name, size) in enumerate(data.stages):
        if i % 2 == 0:
            ax.axvspan(start - 0.5, start + size - 0.5, color="#f2f3f4", zorder=0)
        ax.text(start + (size - 1) / 2, 1.015, textwrap.fill(name, max(8, 5 * size)), transform=above_axes,
                ha="center", va="bottom", fontsize=8.5, fontweight="bold", color="#34495e")
        start += size

    # Older assessments lighter and thinner; a small offset keeps equal picks from hiding each other.
    colours = SERIES_COLOURS[-len(data.series):] if data.series else ()
    for n, (series, colour) in enumerate(zip(data.series, colours)):
        newest = n == len(data.series) - 1
        offset = (n - (len(data.series) - 1) / 2) * 0.05
        ys = [math.nan if v is None else v + offset for v in series.values]
        ax.plot(xs, ys, color=colour, linewidth=2.6 if newest else 1.3, marker="o",
                markersize=7 if newest else 4, label=series.label + (" (latest)" if newest else ""),
                zorder=3 + n)

    if data.reference is not None:
        ax.axhline(data.reference, color=REFERENCE_COLOUR, linestyle="--", linewidth=1.6,
                   label=data.reference_label, zorder=2)

    ax.set_xlim(-0.5, count - 0.5)
    ax.set_ylim(-0.5, len(data.roles) - 0.5)
    ax.set_yticks(range(len(data.roles)), labels=list(data.roles), fontsize=10)
    ax.set_xticks(xs, labels=list(data.capabilities), rotation=50, ha="right", rotation_mode="anchor", fontsize=8.5)
    for i, label in enumerate(ax.get_xticklabels()):
        if i in data.below:
            label.set_color(BELOW_COLOUR)
            label.set_fontweight("bold")
        elif i in data.above:
            label.set_color(ABOVE_COLOUR)
            label.set_fontweight("bold")
    ax.grid(axis="y", color="#d5d8dc", linewidth=0.8, zorder=1)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)

    def from_top(inches: float) -> float:
        return 1 - inches / height

    figure.text(0.5, from_top(0.15), data.title, ha="center", va="top", fontsize=15, fontweight="bold")
    figure.text(0.5, from_top(0.5), data.subtitle, ha="center", va="top", fontsize=10, color="#566573")
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        figure.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, from_top(0.72)),
                      ncol=len(handles), frameon=False, fontsize=9)
    if notes:
        figure.text(0.07, MARGIN_IN / height, "\n".join(notes), ha="left", va="bottom", fontsize=9,
                    color="#2c3e50", linespacing=1.55)
