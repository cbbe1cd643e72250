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
From per-episode results to the protocol's answers: verdicts, counts, selector, findings.

Everything here is a pure function of the results of ``protocol.run_protocol`` and its
``EvalConfig``; ``report`` turns the answers into markdown and plots.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Iterator, Mapping, Sequence

import numpy as np
from poe_steer_lab.eval.priors import Flavour, ORACLE, PriorKind, PriorSpec
from poe_steer_lab.eval.protocol import (Cell, EvalConfig, FROZEN, PRIOR_ONLY, RuleFamily,
                                         RuleSpec, RunKey, RunResult)
from poe_steer_lab.eval.stats import paired_bootstrap, PairedComparison, Verdict


@dataclasses.dataclass(frozen=True)
class Results:
    """
    The results of one evaluation with the lookups the analysis needs.

    :param config: the protocol's settings.
    :param actors: actor names in table order.
    :param runs: every run's per-episode numbers.
    """

    config: EvalConfig
    actors: tuple[str, ...]
    runs: Mapping[RunKey, RunResult]

    def run(self, cell: Cell, rule: RuleSpec) -> RunResult:
        """
        Return the run of ``cell`` under ``rule`` (the frozen run ignores the prior).

        :raises KeyError: naming the run if it was not part of the protocol.
        """
        key = RunKey.of(cell.actor, cell.prior or ORACLE, cell.shift_m, rule)
        try:
            run = self.runs[key]
        except KeyError:
            raise KeyError(f'no run of {rule.label} for actor {cell.actor}, prior '
                           f'{cell.prior.label if cell.prior else None}, shift {cell.shift_m} '
                           'm in these results') from None
        if key.cell != cell:
            return RunResult(run.values[:self.episodes(cell)])
        return run

    def episodes(self, cell: Cell) -> int:
        """
        Return how many episodes the cell's runs played.

        Cells may play extra seeds (``protocol.run_seeds``); the shared frozen run plays the
        most of its cells, and ``run`` gives each cell the prefix its own runs played.
        """
        run = self.runs.get(RunKey(cell, PRIOR_ONLY))
        if run is None:
            return len(self.runs[RunKey.of(cell.actor, ORACLE, cell.shift_m, FROZEN)].values)
        return len(run.values)

    def compare(self, cell: Cell, rule: RuleSpec, baseline: RuleSpec = FROZEN,
                baseline_cell: Cell | None = None) -> PairedComparison:
        """Return the paired comparison of ``rule`` with ``baseline`` on the cell's episodes."""
        return _compare(self, cell, rule, baseline, baseline_cell or cell)

    def grid_cells(self) -> Iterator[Cell]:
        """Yield the grid's cells: actor, then prior, then shift."""
        for actor in self.actors:
            for prior in self.config.grid_priors():
                for shift in self.config.grid_shifts_m:
                    yield Cell(actor, prior, shift)

    def steered_grid_rules(self) -> tuple[RuleSpec, ...]:
        """Return the grid's rules except frozen."""
        return tuple(rule for rule in self.config.grid_rules()
                     if rule.family is not RuleFamily.FROZEN)


@functools.lru_cache(maxsize=4096)
def _bootstrap(treated: bytes, control: bytes, resamples: int,
               level: float) -> PairedComparison:
    """Memoise ``paired_bootstrap``: the findings revisit the same comparisons."""
    return paired_bootstrap(np.frombuffer(treated), np.frombuffer(control),
                            resamples=resamples, level=level)


def _compare(results: Results, cell: Cell, rule: RuleSpec, baseline: RuleSpec,
             baseline_cell: Cell) -> PairedComparison:
    treated = results.run(cell, rule).returns
    control = results.run(baseline_cell, baseline).returns
    paired = min(treated.size, control.size)  # cells may have played different extra seeds
    treated, control = treated[:paired], control[:paired]
    return _bootstrap(treated.tobytes(), control.tobytes(), results.config.resamples,
                      results.config.level)


@dataclasses.dataclass(frozen=True)
class Counts:
    """How many cells a rule helped, left tied and hurt."""

    helped: int = 0
    tied: int = 0
    hurt: int = 0

    def add(self, verdict: Verdict) -> Counts:
        """Return the counts with one more ``verdict``."""
        field = {Verdict.HELP: 'helped', Verdict.FROZEN: 'tied', Verdict.HURT: 'hurt'}[verdict]
        return dataclasses.replace(self, **{field: getattr(self, field) + 1})

    @property
    def total(self) -> int:
        """Return the number of cells counted."""
        return self.helped + self.tied + self.hurt

    def __str__(self) -> str:
        """Return ``HELP/FROZEN/HURT`` counts."""
        return f'{self.helped}/{self.tied}/{self.hurt}'


def verdict_counts(results: Results, rules: Sequence[RuleSpec],
                   cells: Sequence[Cell]) -> dict[RuleSpec, Counts]:
    """Return HELP/FROZEN/HURT counts of each rule over ``cells``."""
    counts = {}
    for rule in rules:
        total = Counts()
        for cell in cells:
            total = total.add(results.compare(cell, rule).verdict)
        counts[rule] = total
    return counts


@dataclasses.dataclass(frozen=True)
class SelectorRow:
    """The KL-budget selector in one grid cell against the best alpha in hindsight."""

    cell: Cell
    best_alpha: float
    best_return: float
    selector: tuple[tuple[RuleSpec, float, float, PairedComparison], ...]
    """Per budget: the rule, its mean return, its mean chosen alpha, selector - best alpha."""


def selector_rows(results: Results) -> list[SelectorRow]:
    """Compare the selector at each budget with PoE at the best alpha of each grid cell."""
    return [selector_row(results, cell) for cell in results.grid_cells()]


def selector_row(results: Results, cell: Cell) -> SelectorRow:
    """Compare the selector at each budget with PoE at the best alpha of one cell."""
    config = results.config
    poe = [RuleSpec(RuleFamily.POE, alpha) for alpha in config.alphas]
    means = [results.run(cell, rule).returns.mean() for rule in poe]
    best = poe[int(np.argmax(means))]
    entries = []
    for budget in config.kl_budgets:
        rule = RuleSpec(RuleFamily.SELECTOR, max(config.alphas), budget)
        run = results.run(cell, rule)
        entries.append((rule, float(run.returns.mean()), float(run.column('mean_alpha').mean()),
                        results.compare(cell, rule, best)))
    return SelectorRow(cell, best.alpha, float(max(means)), tuple(entries))


PRECISION_MARGIN = 1.25
"""Episodes asked for beyond the estimate: intervals shrink as 1/sqrt(episodes) on average only."""


def grid_comparisons(results: Results, cell: Cell) -> list[tuple[str, PairedComparison]]:
    """
    Return every comparison the report shows for a grid cell, each with a label.

    Each steered rule against the frozen actor, and the selector at each budget against PoE
    at the best alpha in hindsight.
    """
    row = selector_row(results, cell)
    return [*((rule.label, results.compare(cell, rule)) for rule in results.steered_grid_rules()),
            *((f'{rule.label} - PoE α={row.best_alpha:g} (best)', comparison)
              for rule, _, _, comparison in row.selector)]


def precision_seeds(results: Results, max_episodes: int) -> dict[Cell, int]:
    """
    Return the extra seeds each grid cell needs to resolve the size of its HELP/HURT effects.

    An interval narrows about as 1/sqrt(episodes), so a verdict whose interval is w wide
    around an effect e needs about (w / e)^2 times the episodes for the interval to become
    narrower than the effect. Each cell asks for that (times ``PRECISION_MARGIN``) for the
    least precise verdict of ``grid_comparisons``, in whole seeds, and at most
    ``max_episodes`` episodes in all. Cells whose verdicts are all ties or precise are left out.
    """
    config = results.config
    wanted = {}
    for cell in results.grid_cells():
        played = results.episodes(cell)
        needed = played
        for _, comparison in grid_comparisons(results, cell):
            if comparison.unresolved and comparison.mean_difference != 0.0:
                ratio = (comparison.high - comparison.low) / abs(comparison.mean_difference)
                needed = max(needed, math.ceil(played * ratio**2 * PRECISION_MARGIN))
        seeds = min(math.ceil((needed - config.episodes_per_cell) / config.episodes_per_seed),
                    (max_episodes - config.episodes_per_cell) // config.episodes_per_seed)
        if config.episodes_per_cell + seeds * config.episodes_per_seed > played:
            wanted[cell] = seeds
    return wanted


@dataclasses.dataclass(frozen=True)
class IdentityRow:
    """PoE(alpha) against KL-reg(beta = alpha / (1 - alpha)) over every cell that ran both."""

    alpha: float
    beta_exact: bool
    """``1 - alpha`` is a power of two, so beta and both rules' means are computed exactly alike;
    elsewhere the two means may differ by a rounding error (about 1e-15) per step."""
    episodes: int
    identical_episodes: int
    """Episodes whose returns are bit-identical."""
    max_abs_difference: float


def poe_kl_identity(results: Results) -> list[IdentityRow]:
    """Compare every KL-reg run with the PoE run of matching alpha in the same cell."""
    differences: dict[float, list[np.ndarray]] = {}
    for key, run in results.runs.items():
        if key.rule.family is RuleFamily.KL:
            poe = results.runs[RunKey(key.cell, RuleSpec(RuleFamily.POE, key.rule.alpha))]
            differences.setdefault(key.rule.alpha, []).append(np.abs(run.returns - poe.returns))
    rows = []
    for alpha in sorted(differences):
        gaps = np.concatenate(differences[alpha])
        rows.append(IdentityRow(alpha, math.frexp(1.0 - alpha)[0] == 0.5, int(gaps.size),
                                int(np.count_nonzero(gaps == 0.0)), float(gaps.max())))
    return rows


@dataclasses.dataclass(frozen=True)
class Finding:
    """One of the paper's findings, what we measured, and whether they agree."""

    claim: str
    measured: str
    agreement: str
    """'agrees', 'partly' or 'disagrees' (by the criterion stated in ``measured``)."""


def _share(counts: Counts, field: str) -> float:
    return getattr(counts, field) / counts.total if counts.total else 0.0


def _pooled(results: Results, family: RuleFamily, cells: Sequence[Cell]) -> Counts:
    """Return the verdict counts of every rule of ``family`` pooled over ``cells``."""
    total = Counts()
    for rule in results.steered_grid_rules():
        if rule.family is family:
            for cell in cells:
                total = total.add(results.compare(cell, rule).verdict)
    return total


def findings(results: Results) -> list[Finding]:
    """Check each finding of the paper (paper-notes.md) against our results, criterion stated."""
    return [_robustness(results), _gains(results), _competent_hurt(results),
            _overconfidence(results), _selector_finding(results), _identity_finding(results),
            _poor_actor(results), _shift_finding(results)]


def _robustness(results: Results) -> Finding:
    config = results.config
    bad = [cell for cell in results.grid_cells() if cell.prior is not None and (
        cell.prior.kind is PriorKind.RANDOM
        or (cell.prior.kind is PriorKind.DEGRADED and cell.prior.flavour is Flavour.HONEST))]
    hurt = {family: _pooled(results, family, bad)
            for family in (RuleFamily.POE, RuleFamily.ADDITIVE, RuleFamily.PRIOR_ONLY)}
    poe, additive, prior_only = (_share(hurt[family], 'hurt') for family in hurt)
    if poe <= 0.25 and additive >= 0.5 and prior_only >= 0.5:
        agreement = 'agrees'
    elif poe < min(additive, prior_only):
        agreement = 'partly'
    else:
        agreement = 'disagrees'
    return Finding(
        'Under degraded (honest) or random priors PoE/KL-reg stay close to frozen, while '
        'additive and prior-only collapse.',
        f'HURT share over the honest-degraded (noise {config.grid_noise:g}) and random grid '
        f'cells, all alphas pooled: PoE {poe:.0%} (HELP/FROZEN/HURT {hurt[RuleFamily.POE]}), '
        f'additive {additive:.0%} ({hurt[RuleFamily.ADDITIVE]}), prior-only {prior_only:.0%} '
        f'({hurt[RuleFamily.PRIOR_ONLY]}). Criterion: agrees if PoE <= 25 % while additive '
        'and prior-only >= 50 %; partly if PoE is merely lowest.', agreement)


def _gains(results: Results) -> Finding:
    competent = results.actors[0]
    poe_rules = [rule for rule in results.steered_grid_rules()
                 if rule.family is RuleFamily.POE]
    groups: dict[tuple[bool, bool], Counts] = {}
    for cell in results.grid_cells():
        group = (cell.actor == competent, cell.prior == ORACLE)
        for rule in poe_rules:
            groups[group] = groups.get(group, Counts()).add(results.compare(cell, rule).verdict)
    helped = sum(counts.helped for counts in groups.values())
    share = groups.get((True, True), Counts()).helped / helped if helped else 0.0
    agreement = 'agrees' if share >= 0.8 else 'partly' if share >= 0.5 else 'disagrees'
    lines = '; '.join(
        f'{competent if is_competent else "other"} actor x {"oracle" if oracle else "other"} '
        f'prior {groups[(is_competent, oracle)]}'
        for is_competent, oracle in sorted(groups, reverse=True))
    return Finding(
        'Gains (HELP) exist only when the actor is competent and the prior informative.',
        f'PoE verdicts (HELP/FROZEN/HURT, all alphas; KL-reg is identical) over the grid: '
        f'{lines}. {share:.0%} of the HELP verdicts fall in {competent} actor x oracle prior '
        'cells. Criterion: agrees if >= 80 %, partly if >= 50 %.', agreement)


def _competent_hurt(results: Results) -> Finding:
    competent = results.actors[0]
    by_prior = {prior.label: Counts() for prior in results.config.grid_priors()}
    for cell in results.grid_cells():
        if cell.actor == competent and cell.prior is not None:
            for rule in results.steered_grid_rules():
                if rule.family is RuleFamily.POE:
                    verdict = results.compare(cell, rule).verdict
                    by_prior[cell.prior.label] = by_prior[cell.prior.label].add(verdict)
    oracle_hurt = by_prior[ORACLE.label].hurt
    any_hurt = sum(counts.hurt for counts in by_prior.values())
    agreement = 'agrees' if oracle_hurt else 'partly' if any_hurt else 'disagrees'
    lines = '; '.join(f'{label} {counts}' for label, counts in by_prior.items())
    return Finding(
        'Steering can hurt even a good actor (paper: medium-expert actors HURT in all 9 cells '
        'of an alpha sweep).',
        f'{competent} actor, PoE over all alphas and grid shifts (HELP/FROZEN/HURT) by prior: '
        f'{lines}. Criterion: agrees if PoE hurts it even with the oracle prior, partly if '
        'only with degraded or random priors, disagrees if never.', agreement)


def _overconfidence(results: Results) -> Finding:
    config = results.config
    rule = RuleSpec(RuleFamily.POE, config.sweep_alpha)
    parts, worse = [], 0
    for actor in results.actors:
        noise = max(config.noise_scales)
        honest = Cell(actor, PriorSpec(PriorKind.DEGRADED, noise, Flavour.HONEST),
                      config.noise_shift)
        confident = dataclasses.replace(
            honest, prior=PriorSpec(PriorKind.DEGRADED, noise, Flavour.OVERCONFIDENT))
        comparison = results.compare(confident, rule, rule, honest)
        worse += comparison.verdict is Verdict.HURT
        parts.append(f'{actor} {comparison.mean_difference:+.2f} '
                     f'[{comparison.low:+.2f}, {comparison.high:+.2f}]')
    agreement = ('agrees' if worse == len(results.actors) else 'partly' if worse
                 else 'disagrees')
    return Finding(
        'Precision weighting protects only against honest priors: an over-confident wrong '
        'prior still pulls.',
        f'{rule.label} return with the over-confident minus the honest prior at noise '
        f'{max(config.noise_scales):g} (same episodes and noise draws): '
        f'{"; ".join(parts)}. Criterion: agrees if significantly lower for every actor, '
        'partly if for some.', agreement)


def _selector_finding(results: Results) -> Finding:
    rows = selector_rows(results)
    budgets = results.config.kl_budgets
    near = [sum(row.selector[index][3].verdict is not Verdict.HURT for row in rows)
            for index in range(len(budgets))]
    best = int(np.argmax(near))
    distance = np.mean([abs(row.selector[best][2] - row.best_alpha) for row in rows])
    share = near[best] / len(rows)
    agreement = 'agrees' if share >= 0.75 else 'partly' if share >= 0.5 else 'disagrees'
    per_budget = ', '.join(f'ε={budget:g}: {count}/{len(rows)}'
                           for budget, count in zip(budgets, near))
    return Finding(
        'A KL-budget selector usually lands near the best alpha in hindsight.',
        f'Grid cells where the selector is not significantly below PoE at the best alpha '
        f'in hindsight: {per_budget}; at ε={budgets[best]:g} its mean chosen alpha is '
        f'{distance:.2f} from the best alpha on average. Criterion (best budget): agrees if '
        '>= 75 % of cells, partly if >= 50 %.', agreement)


def _identity_finding(results: Results) -> Finding:
    rows = poe_kl_identity(results)
    exact = [row for row in rows if row.beta_exact]
    inexact = [row for row in rows if not row.beta_exact]
    if not exact:
        agreement = 'not tested'
    elif all(row.identical_episodes == row.episodes for row in exact):
        agreement = 'agrees'
    else:
        agreement = 'disagrees'
    parts = [f'α={row.alpha:g}: {row.identical_episodes}/{row.episodes} bit-identical, largest '
             f'difference {row.max_abs_difference:.2g}' for row in rows]
    return Finding(
        'With beta = alpha / (1 - alpha), PoE and KL-reg take the same deterministic actions.',
        f'Returns of PoE(α) and KL-reg(β) on the same episodes: {"; ".join(parts)}. Criterion: '
        'agrees if bit-identical wherever β is exact in floating point (1 - α a power of two: '
        f'{", ".join(f"{row.alpha:g}" for row in exact) or "none run"}); at other alphas '
        f'({", ".join(f"{row.alpha:g}" for row in inexact) or "none"}) the means differ by one '
        'rounding per step and the closed loop can amplify it.', agreement)


def _best_success(results: Results, cell: Cell, family: RuleFamily) -> tuple[str, float]:
    """Return the label and success rate of the family's most successful grid rule."""
    rates = {rule.label: float(results.run(cell, rule).column('success').mean())
             for rule in results.steered_grid_rules() if rule.family is family}
    label = max(rates, key=lambda name: rates[name])
    return label, rates[label]


def _poor_actor(results: Results) -> Finding:
    poor = results.actors[-1]
    training = results.config.training_shift
    cell = Cell(poor, ORACLE, training)
    frozen = results.run(cell, FROZEN).column('success').mean()
    best = [_best_success(results, cell, family)
            for family in (RuleFamily.POE, RuleFamily.ADDITIVE, RuleFamily.PRIOR_ONLY)]
    steered = ', '.join(f'{label} {rate:.0%}' for label, rate in best)
    if frozen > 0.0:
        agreement = 'not tested'
        measured = (f'our {poor} actor is not a zero-success actor (frozen success {frozen:.0%} '
                    f'at shift {training:g}), so this finding has no counterpart here; with the '
                    f'oracle prior the best of each family reach: {steered}')
    else:
        agreement = 'agrees' if best[0][1] == 0.0 else 'disagrees'
        measured = (f'{poor} actor: frozen success 0 % at shift {training:g}. With the oracle '
                    f'prior the best of each family reach: {steered}. Criterion: agrees if no '
                    'PoE alpha succeeds (PoE stays anchored to the actor); additive and '
                    'prior-only are not anchored, and our oracle is a planner that succeeds on '
                    'its own')
    return Finding('A behaviour-cloned actor that solves no episode passes zero to every rule.',
                   measured + '.', agreement)


def _shift_finding(results: Results) -> Finding:
    config = results.config
    parts, cliffs = [], 0
    for actor in results.actors:
        for rule in (FROZEN, RuleSpec(RuleFamily.POE, config.sweep_alpha)):
            success = [results.run(Cell(actor, ORACLE, shift), rule).column('success').mean()
                       for shift in config.shifts_m]
            drop = max((a - b for a, b in zip(success, success[1:])), default=0.0)
            cliffs += drop > 0.5
            parts.append(f'{actor} {rule.label} ' + '→'.join(f'{s:.0%}' for s in success))
    agreement = 'agrees' if cliffs == 0 else 'disagrees'
    return Finding(
        'Graceful degradation: performance falls smoothly with objective shift, without a '
        'cliff.',
        f'Success rate over shifts {", ".join(f"{s:g}" for s in config.shifts_m)} '
        f'{config.shift_unit} (oracle '
        f'prior): {"; ".join(parts)}. Criterion: a cliff is a success drop > 50 points '
        f'between neighbouring shifts; {cliffs} found.', agreement)
