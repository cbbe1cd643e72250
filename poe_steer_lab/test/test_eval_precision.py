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


"""Extra episodes where an effect's size is unresolved: which cells ask, and how pairing holds."""

import numpy as np
from poe_steer_lab.eval.analysis import (grid_comparisons, PRECISION_MARGIN, precision_seeds,
                                         Results)
from poe_steer_lab.eval.priors import Flavour, ORACLE, PriorKind, PriorSpec, RANDOM
from poe_steer_lab.eval.protocol import (Cell, EPISODE_FIELDS, EvalConfig, FROZEN, plan_runs,
                                         RuleFamily, RuleSpec, run_seeds, RunKey,
                                         RunResult)
from poe_steer_lab.eval.stats import Verdict

CONFIG = EvalConfig(seeds=(0,), episodes_per_seed=16, alphas=(0.5,), kl_budgets=(0.2,),
                    noise_scales=(1.0,), grid_noise=1.0, grid_shifts_m=(0.0,), shifts_m=(0.0,),
                    resamples=500)
HONEST = PriorSpec(PriorKind.DEGRADED, 1.0, Flavour.HONEST)
OVERCONFIDENT = PriorSpec(PriorKind.DEGRADED, 1.0, Flavour.OVERCONFIDENT)
POE = RuleSpec(RuleFamily.POE, 0.5)
FROZEN_RETURNS = np.linspace(-500.0, -100.0, 64)
"""Returns of the frozen run over the most episodes any cell plays."""


def _results(gains: dict, episodes: dict | None = None) -> Results:
    """
    Return results whose steered returns are frozen + the cell's gains per episode.

    :param gains: prior -> per-episode gain of every steered rule in that cell, or rule
        family -> gain (0 for rules and cells left out).
    :param episodes: prior -> episodes the cell played (default 16).
    """
    episodes = episodes or {}
    runs = {}
    for key in plan_runs(CONFIG, ['a']):
        prior = key.cell.prior
        count = len(FROZEN_RETURNS) if prior is None else episodes.get(prior, 16)
        returns = FROZEN_RETURNS[:count].copy()
        gain = gains.get(prior, 0.0)
        if isinstance(gain, dict):
            gain = gain.get(key.rule.family, 0.0)
        if prior is not None:
            returns += np.resize(gain, count)
        values = np.zeros((count, len(EPISODE_FIELDS)))
        values[:, EPISODE_FIELDS.index('episode_return')] = returns
        runs[key] = RunResult(values)
    return Results(CONFIG, ('a',), runs)


def test_only_cells_with_an_unresolved_help_or_hurt_ask_for_more():
    steady = np.full(16, 50.0)
    carried_by_few = np.array([1.0] * 14 + [100.0] * 2)
    tie = np.tile([-40.0, 40.0], 8)
    results = _results({ORACLE: steady, HONEST: carried_by_few, RANDOM: tie})
    cell = Cell('a', HONEST, 0.0)
    comparison = results.compare(cell, POE)
    assert comparison.verdict is Verdict.HELP and not comparison.precise
    assert results.compare(Cell('a', ORACLE, 0.0), POE).precise
    assert results.compare(Cell('a', RANDOM, 0.0), POE).verdict is Verdict.FROZEN
    wanted = precision_seeds(results, max_episodes=1024)
    assert list(wanted) == [cell]
    ratio = (comparison.high - comparison.low) / comparison.mean_difference
    expected = np.ceil(16 * ratio**2 * PRECISION_MARGIN)
    assert wanted[cell] == np.ceil((expected - 16) / 16)


def test_an_unresolved_selector_against_the_best_alpha_asks_too():
    steady = np.full(16, 200.0)
    results = _results({ORACLE: {RuleFamily.POE: steady, RuleFamily.KL: steady,
                                 RuleFamily.SELECTOR: steady - np.array([1.0] * 14 + [90.0] * 2)}})
    cell = Cell('a', ORACLE, 0.0)
    assert all(results.compare(cell, rule).precise for rule in results.steered_grid_rules()
               if rule.family in (RuleFamily.POE, RuleFamily.SELECTOR))
    label, selector = grid_comparisons(results, cell)[-1]
    assert label.startswith('selector ε=0.2 - PoE α=0.5')
    assert selector.verdict is Verdict.HURT and not selector.precise
    assert list(precision_seeds(results, max_episodes=128)) == [cell]


def test_the_cap_bounds_the_episodes_asked_for():
    results = _results({HONEST: np.array([1.0] * 14 + [100.0] * 2)})
    assert precision_seeds(results, max_episodes=32) == {Cell('a', HONEST, 0.0): 1}
    assert precision_seeds(results, max_episodes=16) == {}
    at_cap = _results({HONEST: np.array([1.0] * 14 + [100.0] * 2)}, {HONEST: 32})
    assert precision_seeds(at_cap, max_episodes=32) == {}


def test_each_cell_pairs_with_the_frozen_prefix_it_played():
    results = _results({HONEST: np.full(48, 10.0)}, {HONEST: 48})
    honest, oracle = Cell('a', HONEST, 0.0), Cell('a', ORACLE, 0.0)
    assert results.episodes(honest) == 48 and results.episodes(oracle) == 16
    np.testing.assert_array_equal(results.run(oracle, FROZEN).returns, FROZEN_RETURNS[:16])
    np.testing.assert_array_equal(results.run(honest, FROZEN).returns, FROZEN_RETURNS[:48])
    assert results.compare(honest, POE).episodes == 48
    assert results.compare(honest, POE).mean_difference == 10.0
    assert results.compare(honest, POE, POE, oracle).episodes == 16


def test_extra_seeds_follow_the_configured_ones_and_frozen_plays_the_most():
    extra = {Cell('a', HONEST, 0.0): 2, Cell('a', OVERCONFIDENT, 0.0): 3,
             Cell('a', HONEST, 1.0): 5}
    config = EvalConfig(seeds=(4, 7), grid_shifts_m=(0.0, 1.0))
    assert run_seeds(config, RunKey.of('a', HONEST, 0.0, POE), extra) == (4, 7, 8, 9)
    assert run_seeds(config, RunKey.of('a', ORACLE, 0.0, POE), extra) == (4, 7)
    assert run_seeds(config, RunKey.of('a', HONEST, 0.0, FROZEN), extra) == (4, 7, 8, 9, 10)
    assert run_seeds(config, RunKey.of('b', HONEST, 0.0, FROZEN), extra) == (4, 7)
