# Copyright 2026 poe_steer_ros contributors
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.

"""
Write the evaluation's results: ``results.md`` with its tables and two PNG plots.

Tables: the actors' competence, the paper's findings against ours, HELP/FROZEN/HURT per grid
cell and rule, verdict counts, the selector against the best alpha in hindsight, the prior-noise
and objective-shift sweeps and the PoE = KL-reg check; then the exact configuration. Plots:
return (and success) against objective shift per rule, and return against prior noise per rule
and flavour.
"""

from __future__ import annotations

import dataclasses
import datetime
import pathlib
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
from poe_steer_lab.bench.machine import machine_facts
from poe_steer_lab.eval.analysis import (findings, poe_kl_identity, Results, selector_rows,
                                         verdict_counts)
from poe_steer_lab.eval.priors import Flavour, ORACLE, PriorKind
from poe_steer_lab.eval.protocol import Cell, FROZEN, RuleFamily, RuleSpec
from poe_steer_lab.eval.stats import PairedComparison, Verdict
import yaml

REPORT_FILE = 'results.md'
SHIFT_PLOT = 'eval_return_vs_shift.png'
NOISE_PLOT = 'eval_return_vs_noise.png'
PLOTS = (SHIFT_PLOT, NOISE_PLOT)
_MARK = {Verdict.HELP: '▲', Verdict.FROZEN: '·', Verdict.HURT: '▼'}


@dataclasses.dataclass(frozen=True)
class ReportText:
    """The task-specific words of the report; the defaults describe the diff-drive task."""

    title: str = "Evaluation: the paper's protocol on our MuJoCo task"
    intro: str = (
        'The paper (arXiv 2604.22873) evaluates on D4RL datasets, which cannot be downloaded '
        "here. This report reproduces its protocol on the project's own task instead: the "
        'MuJoCo differential-drive base of `sim/diff_drive.py` driving from the start pose to '
        'a goal around two obstacles (default world `config/sim_world.yaml`), with frozen '
        "actors trained offline by the project's pipeline. Numbers are therefore not "
        "comparable with the paper's; the qualitative findings are (definitions: "
        '`docs/paper-notes.md` of the shared notes).')
    episode: str = (
        "Return of an episode = the environment's return: progress toward the goal (m) minus 1 "
        'per collision; an episode ends at the goal (0.25 m), at the first collision or after '
        '{max_episode_s:g} s (20 Hz control). Success = goal reached.')
    oracle: str = ('expert planner (navigation-field controller of the dataset, no noise) '
                   'toward the deployment goal')
    units: str = 'noise and stds are fractions of the command half-range, 0.75 m/s and 2 rad/s'
    shift: str = 'shift (m)'
    """Column header of the objective shift."""
    shift_cell: str = 'shift {shift:g} m'
    shift_axis: str = 'objective shift (m from the training goal region)'
    shift_section: str = (
        'Shift = distance of the deployment goals from the training goal region (goals drawn '
        'within ±{tolerance:g} m of it, clear of obstacles). Farther goals also lie farther '
        'from the start, so returns (progress) can grow with shift; compare rules within a '
        'shift, and read the success rates.')
    plot_prefix: str = 'eval_'


DIFF_DRIVE_TEXT = ReportText()


def write_report(results: Results, out_dir: pathlib.Path, *, wall_time_s: float,
                 command: str, descriptions: Mapping[str, str], quick: bool) -> pathlib.Path:
    """
    Write ``results.md`` and the plots into ``out_dir``; return the report's path.

    :param results: the evaluation's results.
    :param out_dir: folder of the report and its PNGs (created if needed).
    :param wall_time_s: wall time of the whole evaluation, actor training included.
    :param command: the command that reproduces the report.
    :param descriptions: actor name -> how it was made.
    :param quick: whether this is the quick mode (tiny budgets, not for quoting).
    """
    sections = report_sections(results, out_dir, DIFF_DRIVE_TEXT, descriptions)
    path = out_dir / REPORT_FILE
    path.write_text('\n\n'.join([_header(results, wall_time_s, command, quick), *sections])
                    + '\n', encoding='utf-8')
    return path


def report_sections(results: Results, out_dir: pathlib.Path, text: ReportText,
                    descriptions: Mapping[str, str]) -> list[str]:
    """
    Write the two plots into ``out_dir``; return the report's sections after its header.

    :param text: the task's words and the plots' file prefix.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    shift_plot = f'{text.plot_prefix}return_vs_shift.png'
    noise_plot = f'{text.plot_prefix}return_vs_noise.png'
    plot_shift(results, out_dir / shift_plot, text)
    plot_noise(results, out_dir / noise_plot)
    return [
        _actors(results, descriptions, text),
        _findings(results),
        _grid(results, text),
        _counts(results, text),
        _selector(results, text),
        _noise(results, noise_plot),
        _shift(results, shift_plot, text),
        _identity(results),
        _configuration(results, descriptions),
    ]


def _table(header: Sequence[str], rows: Iterable[Sequence[Any]],
           align: Sequence[str] | None = None) -> str:
    """Return a markdown table (``align``: one of 'l' or 'r' per column, default left)."""
    align = align or ['l'] * len(header)
    rule = ['---:' if side == 'r' else '---' for side in align]
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '|'.join(rule) + '|']
    lines += ['| ' + ' | '.join(str(item) for item in row) + ' |' for row in rows]
    return '\n'.join(lines)


def _mark(comparison: PairedComparison) -> str:
    """Return the mean difference and verdict mark; in parentheses if its size is unresolved."""
    text = f'{comparison.mean_difference:+.2f}'
    if comparison.unresolved:
        text = f'({text})'
    return text + _MARK[comparison.verdict]


def _prior_label(cell: Cell) -> str:
    return cell.prior.label if cell.prior is not None else '-'


def _header(results: Results, wall_time_s: float, command: str, quick: bool,
            text: ReportText = DIFF_DRIVE_TEXT) -> str:
    mode = ' **Quick mode: tiny budgets, numbers not for quoting.**' if quick else ''
    return (f'# {text.title}\n\n{text.intro}{mode}\n\n'
            f'* Reproduce: `{command}` (wall time {wall_time_s / 60:.1f} min, actor training '
            f'included when not cached; written {datetime.date.today().isoformat()}).\n'
            f'* Machine: {machine_facts()}.\n' + protocol_facts(results, text))


def protocol_facts(results: Results, text: ReportText) -> str:
    """Return the bullet list stating returns, episodes, the test and how rules run."""
    config = results.config
    extended = [episodes for episodes in map(results.episodes, results.grid_cells())
                if episodes > config.episodes_per_cell]
    more = (f', more in the {len(extended)} grid cells that played extra seeds of '
            f'{config.episodes_per_seed} episodes because an effect was unresolved (up to '
            f'{max(extended)})' if extended else '')
    return (
        f'* {text.episode.format(max_episode_s=config.max_episode_s)}\n'
        f'* Episodes: {len(config.seeds)} seeds x {config.episodes_per_seed} episodes = '
        f'{config.episodes_per_cell} per run{more}; every rule of a cell plays the same '
        'episodes (start pose, goal, prior noise) as the frozen actor.\n'
        f'* Test: paired percentile bootstrap of the mean return difference (rule - frozen) '
        f'over the episodes, {config.resamples} resamples, {config.level:.0%} interval. '
        f'HELP {_MARK[Verdict.HELP]} if the interval lies above 0, HURT {_MARK[Verdict.HURT]} '
        f'if below, FROZEN {_MARK[Verdict.FROZEN]} (tied) otherwise. No correction for '
        'multiple comparisons. Table entries are mean differences with their mark; one in '
        'parentheses is HELP or HURT with an interval wider than its effect: its sign is '
        'significant, its size is not resolved.\n'
        '* Rules run through the core `Steerer` in-process with mean (deterministic) actions, '
        'no weight ramp, and an envelope of command bounds only (no rate limits, alpha_max 1). '
        "The evaluation priors are plugged in as the Steerer's learned prior (command space).")


def _actors(results: Results, descriptions: Mapping[str, str], text: ReportText) -> str:
    rows = []
    training = results.config.training_shift
    for actor in results.actors:
        run = results.run(Cell(actor, None, training), FROZEN)
        rows.append((actor, descriptions.get(actor, ''), f'{run.returns.mean():.2f}',
                     f'{run.column("success").mean():.0%}',
                     f'{run.column("collision").mean():.0%}',
                     f'{run.column("mean_actor_std").mean():.3f}'))
    config = results.config
    priors = _table(('prior', 'mean (command space)', 'std (normalised-action units)'), [
        ('oracle', text.oracle, f'std_0 = {config.priors.oracle_std:g}'),
        ('honest σ', 'oracle mean + AR(1) Gaussian noise, stationary std σ, correlation '
         f'{config.priors.noise_correlation:g} per step', 'sqrt(std_0² + σ²)'),
        ('overconfident σ', 'same noisy mean (same draws)', 'std_0'),
        ('random', 'uniform in the command bounds, drawn once per episode',
         f'{config.priors.random_std:g}'),
    ])
    return ('## Actors and priors\n\n'
            'Competence of each frozen actor alone (frozen rule, training condition, '
            f'{text.shift_cell.format(shift=training)}):\n\n'
            + _table(('actor', 'made by', 'return', 'success', 'collisions', 'actor std'),
                     rows, 'llrrrr')
            + '\n\nActor std: the pre-squash std the actor reports, averaged over the states '
            'it visits (tanh-Gaussian actors: std of u, with a = tanh(u); Gaussian ones: std '
            'of the normalised action). PoE weighs the prior by how this compares with the '
            "prior's std mapped into the same space: a tiny actor std anchors PoE to the actor."
            f'\n\nPriors ({text.units}):\n\n' + priors)


def _findings(results: Results) -> str:
    rows = [(finding.claim, finding.measured, f'**{finding.agreement}**')
            for finding in findings(results)]
    return ('## Where our results agree or disagree with the paper\n\n'
            "Each row states the paper's finding, what we measured and the criterion used "
            '(computed from the tables below, not written by hand).\n\n'
            + _table(('paper', 'ours', 'agreement'), rows))


def _grid_columns(results: Results) -> list[RuleSpec]:
    """Return the grid rules shown as columns (KL-reg equals PoE; see its own check)."""
    return [rule for rule in results.steered_grid_rules() if rule.family is not RuleFamily.KL]


def _grid(results: Results, text: ReportText) -> str:
    columns = _grid_columns(results)
    parts = ['## Grid: every rule against the frozen actor\n\n'
             'Mean paired return difference (rule - frozen) and verdict per cell. KL-reg at '
             'beta = alpha / (1 - alpha) gives the same returns as PoE at alpha (see the '
             'identity check), so its columns are left out.']
    for actor in results.actors:
        rows = []
        for cell in results.grid_cells():
            if cell.actor != actor:
                continue
            frozen = results.run(cell, FROZEN).returns.mean()
            rows.append([_prior_label(cell), f'{cell.shift_m:g}', f'{frozen:.2f}',
                         *(_mark(results.compare(cell, rule)) for rule in columns)])
        parts.append(f'### {actor} actor\n\n' + _table(
            ('prior', text.shift, 'frozen', *(rule.label for rule in columns)), rows,
            'llr' + 'r' * len(columns)))
    return '\n\n'.join(parts)


def _counts(results: Results, text: ReportText) -> str:
    groups = {
        'oracle': lambda cell: cell.prior.kind is PriorKind.ORACLE,
        'honest': lambda cell: (cell.prior.kind is PriorKind.DEGRADED
                                and cell.prior.flavour is Flavour.HONEST),
        'overconfident': lambda cell: cell.prior.flavour is Flavour.OVERCONFIDENT,
        'random': lambda cell: cell.prior.kind is PriorKind.RANDOM,
    }
    cells = list(results.grid_cells())
    rules = results.steered_grid_rules()
    counts = {name: verdict_counts(results, rules, [c for c in cells if keep(c)])
              for name, keep in groups.items()}
    overall = verdict_counts(results, rules, cells)
    rows = [(rule.label, *(str(counts[name][rule]) for name in groups), str(overall[rule]))
            for rule in rules]
    return ('## Verdict counts per rule\n\n'
            f'HELP/FROZEN/HURT over the grid cells ({len(results.actors)} actors x '
            f'{len(results.config.grid_shifts_m)} values of {text.shift} per prior). The paper '
            'reports 4 HELP / 5 FROZEN / 3 HURT over its 12 D4RL cells.\n\n'
            + _table(('rule', *groups, 'all'), rows, 'l' + 'r' * (len(groups) + 1)))


def _selector(results: Results, text: ReportText) -> str:
    config = results.config
    rows = []
    for row in selector_rows(results):
        rows.append([row.cell.actor, _prior_label(row.cell), f'{row.cell.shift_m:g}',
                     f'{row.best_alpha:g}', f'{row.best_return:.2f}',
                     *(f'{mean:.2f} (α̅ {alpha:.2f}) {_mark(comparison)}'
                       for _, mean, alpha, comparison in row.selector)])
    budgets = [f'selector ε={budget:g}' for budget in config.kl_budgets]
    return ('## KL-budget selector against the best alpha in hindsight\n\n'
            f'The selector takes, per state, the largest alpha <= {max(config.alphas):g} whose '
            'PoE stays within the budget ε (nats per control step) of the actor. Best alpha = '
            'the PoE alpha with the highest mean return in that cell, chosen after the fact. '
            'Entries: selector mean return, its mean chosen alpha α̅, and the paired '
            'difference selector - best alpha with its verdict (▼: significantly worse than '
            'the best alpha).\n\n'
            + _table(('actor', 'prior', text.shift, 'best α', 'best return', *budgets), rows,
                     'lllrr' + 'r' * len(budgets)))


def _sweep_table(results: Results, cells: Sequence[Cell], label: str) -> str:
    rules = results.config.sweep_rules()
    rows = []
    for cell in cells:
        frozen = results.run(cell, FROZEN)
        entries = [f'{frozen.returns.mean():.2f} ({frozen.column("success").mean():.0%})']
        for rule in rules[1:]:
            run = results.run(cell, rule)
            entries.append(f'{run.returns.mean():.2f} ({run.column("success").mean():.0%}) '
                           f'{_MARK[results.compare(cell, rule).verdict]}')
        rows.append([cell.actor, label.format(cell=cell, prior=_prior_label(cell)), *entries])
    return _table(('actor', 'cell', *(rule.label for rule in rules)), rows,
                  'll' + 'r' * len(rules))


def _noise(results: Results, plot: str) -> str:
    shift = results.config.noise_shift
    cells = [Cell(actor, prior, shift) for actor in results.actors for flavour in Flavour
             for prior in results.config.noise_priors(flavour)[flavour is Flavour.OVERCONFIDENT:]]
    return (f'## Prior noise sweep (shift {shift:g})\n\n'
            f'![return vs prior noise]({plot})\n\n'
            'Mean return (success rate) and verdict against frozen.\n\n'
            + _sweep_table(results, cells, '{prior}'))


def _shift(results: Results, plot: str, text: ReportText) -> str:
    cells = [Cell(actor, ORACLE, shift) for actor in results.actors
             for shift in results.config.shifts_m]
    section = text.shift_section.format(tolerance=results.config.shift_tolerance_m)
    return ('## Objective shift sweep (oracle prior)\n\n'
            f'![return vs objective shift]({plot})\n\n{section}\n\n'
            + _sweep_table(results, cells, text.shift_cell.replace('{shift', '{cell.shift_m')))


def _identity(results: Results) -> str:
    rows = [(f'{row.alpha:g}', f'{row.alpha / (1.0 - row.alpha):.6g}',
             'yes' if row.beta_exact else 'no', f'{row.identical_episodes}/{row.episodes}',
             f'{row.max_abs_difference:.3g}') for row in poe_kl_identity(results)]
    return ('## PoE and KL-reg at matched alpha / beta\n\n'
            'Returns of PoE(α) and KL-reg(β = α / (1 - α)) on the same episodes of every cell '
            'that ran both. Where β is exact in binary floating point (1 - α a power of two) '
            'the two rules compute bit-identical means; elsewhere they differ by about one '
            'rounding (1e-15) per step, which the closed loop can amplify.\n\n'
            + _table(('α', 'β', 'β exact', 'bit-identical episodes', 'largest return gap'),
                     rows, 'rrlrr'))


def _configuration(results: Results, descriptions: Mapping[str, str]) -> str:
    config = _plain(dataclasses.asdict(results.config))
    config['actors'] = dict(descriptions)
    return ('## Exact configuration\n\n```yaml\n'
            + yaml.safe_dump(config, sort_keys=False, allow_unicode=True) + '```')


def _plain(value: Any) -> Any:
    """Return ``value`` with tuples as lists, which ``yaml.safe_dump`` can write."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def _mean_and_halfwidth(values: np.ndarray) -> tuple[float, float]:
    """Return the mean and the half-width of its normal-approximation 95 % interval."""
    spread = values.std(ddof=1) / np.sqrt(values.size) if values.size > 1 else 0.0
    return float(values.mean()), float(1.96 * spread)


_STYLE: dict[RuleFamily, dict[str, str]] = {
    RuleFamily.FROZEN: {'color': 'black', 'marker': 'o', 'linestyle': '-'},
    RuleFamily.POE: {'color': 'tab:blue', 'marker': 's', 'linestyle': '-'},
    RuleFamily.KL: {'color': 'tab:orange', 'marker': 'x', 'linestyle': '--'},
    RuleFamily.ADDITIVE: {'color': 'tab:red', 'marker': '^', 'linestyle': '-'},
    RuleFamily.PRIOR_ONLY: {'color': 'tab:purple', 'marker': 'v', 'linestyle': ':'},
    RuleFamily.SELECTOR: {'color': 'tab:brown', 'marker': 'D', 'linestyle': '-'},
}
"""One look per rule; KL-reg is dashed over PoE, which it equals."""


def _figure(rows: int, columns: int) -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.2 * rows + 0.6),
                                squeeze=False, sharey='row')
    return figure, axes


def _save(figure: Any, axes: Any, path: pathlib.Path) -> None:
    """Put one legend under the panels and write the PNG."""
    import matplotlib.pyplot as plt

    handles, labels = axes[0, 0].get_legend_handles_labels()
    figure.legend(handles, labels, loc='lower center', ncol=len(labels), fontsize=8,
                  frameon=False)
    figure.tight_layout(rect=(0.0, 0.05, 1.0, 1.0))
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _dodge(index: int, count: int, step: float) -> float:
    """Return a small horizontal offset so that overlapping rules stay visible."""
    return (index - (count - 1) / 2.0) * step


def plot_shift(results: Results, path: pathlib.Path,
               text: ReportText = DIFF_DRIVE_TEXT) -> None:
    """Plot mean return and success rate against objective shift, per actor and rule."""
    shifts = np.array(results.config.shifts_m)
    rules = results.config.sweep_rules()
    figure, axes = _figure(2, len(results.actors))
    for column, actor in enumerate(results.actors):
        for index, rule in enumerate(rules):
            runs = [results.run(Cell(actor, ORACLE, shift), rule) for shift in shifts]
            stats = [_mean_and_halfwidth(run.returns) for run in runs]
            x = shifts + _dodge(index, len(rules), 0.02)
            style = _STYLE[rule.family]
            axes[0, column].errorbar(x, [s[0] for s in stats], [s[1] for s in stats],
                                     capsize=2, label=rule.label, **style)
            axes[1, column].plot(x, [run.column('success').mean() for run in runs],
                                 label=rule.label, **style)
        axes[0, column].set_title(f'{actor} actor, oracle prior')
        axes[1, column].set_xlabel(text.shift_axis)
    axes[0, 0].set_ylabel('return (mean, 95 % CI)')
    axes[1, 0].set_ylabel('success rate')
    axes[1, 0].set_ylim(-0.05, 1.05)
    _save(figure, axes, path)


def plot_noise(results: Results, path: pathlib.Path) -> None:
    """Plot mean return against prior noise, one row per flavour, one column per actor."""
    config = results.config
    rules = config.sweep_rules()
    noises = (0.0, *config.noise_scales)
    positions = np.arange(len(noises))
    figure, axes = _figure(len(Flavour), len(results.actors))
    for row, flavour in enumerate(Flavour):
        for column, actor in enumerate(results.actors):
            plot = axes[row, column]
            for index, rule in enumerate(rules):
                cells = [Cell(actor, prior, config.noise_shift)
                         for prior in config.noise_priors(flavour)]
                stats = [_mean_and_halfwidth(results.run(cell, rule).returns) for cell in cells]
                plot.errorbar(positions + _dodge(index, len(rules), 0.06),
                              [s[0] for s in stats], [s[1] for s in stats], capsize=2,
                              label=rule.label, **_STYLE[rule.family])
            plot.set_xticks(positions, [f'{noise:g}' for noise in noises])
            plot.set_title(f'{actor} actor, {flavour.value} prior')
            plot.set_xlabel('prior noise σ (0 = oracle)')
        axes[row, 0].set_ylabel('return (mean, 95 % CI)')
    _save(figure, axes, path)
