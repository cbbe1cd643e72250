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

"""The evaluation protocol: PoE = KL-reg in closed loop, paired episodes, shifted goals, runs."""

import dataclasses

from actor_fixtures import export_linear_base_actor
import numpy as np
from poe_steer_lab.eval.analysis import Results
from poe_steer_lab.eval.priors import (build_prior, Flavour, ORACLE, OraclePrior, PriorKind,
                                       PriorSettings, PriorSpec)
from poe_steer_lab.eval.protocol import (Cell, EvalConfig, FROZEN, plan_episodes,
                                         plan_runs, PRIOR_ONLY, RuleFamily, RuleSpec,
                                         run_protocol, RunKey, sample_shifted_goal,
                                         shift_distance, steered_policy)
from poe_steer_lab.offline.rollout import run_episode
from poe_steer_ros.core.actor import load_actor
from poe_steer_ros.core.compose import Rule
from poe_steer_ros.core.gaussian import ActionScale
from poe_steer_sim.diff_drive import COMMAND_HIGH, COMMAND_LOW, DiffDriveEnv
from poe_steer_sim.world import default_world
import pytest

WORLD = default_world()


@pytest.fixture(scope='module')
def actor(tmp_path_factory):
    """Load a real tanh-Gaussian actor, whose std depends on the state, as the node would."""
    manifest = export_linear_base_actor(tmp_path_factory.mktemp('actor'))
    return load_actor(manifest, device='cpu', warmup_passes=0)


@pytest.fixture(scope='module')
def oracle():
    return OraclePrior(WORLD, ActionScale(COMMAND_LOW, COMMAND_HIGH), 0.1)


def _returns(actor, oracle, rule, episodes, prior_spec=ORACLE):
    env = DiffDriveEnv(WORLD, max_episode_s=8.0)
    scale = ActionScale(actor.action_low, actor.action_high)
    prior = build_prior(prior_spec, oracle, scale, PriorSettings())
    policy = steered_policy(actor, rule, prior)
    records = [run_episode(policy, env, episode.goal, episode.seed, episode.start)
               for episode in episodes]
    return np.array([record.episode_return for record in records]), records


def test_poe_and_kl_at_matched_weights_give_identical_deterministic_returns(actor, oracle):
    episodes = plan_episodes(WORLD, 0.0, seed=0, count=4, tolerance_m=0.1)
    noisy = PriorSpec(PriorKind.DEGRADED, 0.5, Flavour.OVERCONFIDENT)
    poe, records = _returns(actor, oracle, RuleSpec(RuleFamily.POE, 0.5), episodes, noisy)
    kl, _ = _returns(actor, oracle, RuleSpec(RuleFamily.KL, 0.5), episodes, noisy)
    additive, _ = _returns(actor, oracle, RuleSpec(RuleFamily.ADDITIVE, 0.5), episodes, noisy)
    assert min(record.steps for record in records) > 20, 'episodes long enough to diverge'
    np.testing.assert_array_equal(poe, kl)
    assert not np.array_equal(poe, additive), 'the check can fail: another rule differs'


def test_poe_and_kl_commands_agree_to_rounding_where_beta_is_inexact(actor, oracle):
    # beta = 0.3 / 0.7 is not exact in binary: the means may differ by about one rounding.
    episodes = plan_episodes(WORLD, 0.0, seed=1, count=1, tolerance_m=0.1)
    _, (record,) = _returns(actor, oracle, RuleSpec(RuleFamily.POE, 0.3), episodes)
    scale = ActionScale(actor.action_low, actor.action_high)
    poe, kl = (steered_policy(actor, RuleSpec(family, 0.3),
                              build_prior(ORACLE, oracle, scale, PriorSettings()))
               for family in (RuleFamily.POE, RuleFamily.KL))
    for row in record.states[:-1]:
        state = dict(zip(record.state_keys, row))
        np.testing.assert_allclose(poe(state, record.goal, 0.0), kl(state, record.goal, 0.0),
                                   rtol=0.0, atol=1e-12)


def test_episodes_are_the_same_for_every_rule_and_differ_across_seeds():
    first = plan_episodes(WORLD, 1.0, seed=2, count=3, tolerance_m=0.1)
    again = plan_episodes(WORLD, 1.0, seed=2, count=3, tolerance_m=0.1)
    other = plan_episodes(WORLD, 1.0, seed=3, count=3, tolerance_m=0.1)
    assert [(e.seed, e.start) for e in first] == [(e.seed, e.start) for e in again]
    np.testing.assert_array_equal([e.goal for e in first], [e.goal for e in again])
    assert [e.seed for e in first] != [e.seed for e in other]


@pytest.mark.parametrize('shift_m', [0.0, 0.5, 1.5])
def test_shifted_goals_lie_at_the_shift_and_clear_of_obstacles(shift_m):
    rng = np.random.default_rng(4)
    goals = np.array([sample_shifted_goal(WORLD, shift_m, rng, 0.1) for _ in range(30)])
    np.testing.assert_allclose(shift_distance(WORLD, goals), shift_m, atol=0.1)
    assert all(WORLD.clearance(x, y) >= 0.35 for x, y in goals)
    assert all(WORLD.arena.contains(x, y) for x, y in goals)


def test_an_impossible_shift_is_refused_with_its_value():
    with pytest.raises(ValueError, match='shift_m=9'):
        sample_shifted_goal(WORLD, 9.0, np.random.default_rng(0), 0.1, max_batches=2)


def test_rules_map_to_steerer_settings():
    selector = RuleSpec(RuleFamily.SELECTOR, 0.9, 0.2).steering_config()
    assert selector.rule is Rule.POE and selector.alpha == 0.9 and selector.kl_budget == 0.2
    kl = RuleSpec(RuleFamily.KL, 0.75).steering_config()
    assert kl.rule is Rule.KL and kl.beta == 3.0 and kl.kl_budget == 0.0
    assert PRIOR_ONLY.steering_config().rule is Rule.PRIOR_ONLY
    assert {RuleSpec(RuleFamily.POE, 0.5).label, FROZEN.label} == {'PoE α=0.5', 'frozen'}


def test_plan_runs_shares_frozen_runs_across_priors_and_covers_every_block():
    config = EvalConfig(alphas=(0.5,), kl_budgets=(0.2,), noise_scales=(1.0,), grid_noise=1.0,
                        grid_shifts_m=(0.0,), shifts_m=(0.0, 1.0))
    runs = plan_runs(config, ['a'])
    assert len(runs) == len(set(runs))
    frozen = [key for key in runs if key.rule == FROZEN]
    assert {key.cell for key in frozen} == {Cell('a', None, 0.0), Cell('a', None, 1.0)}
    honest = PriorSpec(PriorKind.DEGRADED, 1.0, Flavour.HONEST)
    for rule in config.grid_rules()[1:]:
        assert RunKey.of('a', honest, 0.0, rule) in runs
    for rule in config.sweep_rules():
        assert RunKey.of('a', ORACLE, 1.0, rule) in runs


def test_extra_seeds_play_only_the_new_episodes_of_their_cell(tmp_path):
    manifests = {'base': export_linear_base_actor(tmp_path / 'actor')}
    config = EvalConfig(seeds=(0,), episodes_per_seed=2, max_episode_s=1.0, alphas=(0.5,),
                        kl_budgets=(0.2,), noise_scales=(1.0,), grid_noise=1.0,
                        grid_shifts_m=(0.0,), shifts_m=(0.0,), workers=1, resamples=100)
    cache = tmp_path / 'tasks'
    base = run_protocol(config, manifests, cache=cache)
    cached = set(cache.iterdir())
    honest = Cell('base', PriorSpec(PriorKind.DEGRADED, 1.0, Flavour.HONEST), 0.0)
    more = run_protocol(config, manifests, cache=cache, extra_seeds={honest: 1})
    played = {key for key in more if key.cell == honest or key.rule == FROZEN}
    assert len(set(cache.iterdir()) - cached) == len(played)
    for key, run in more.items():
        assert len(run.values) == (4 if key in played else 2)
        np.testing.assert_array_equal(run.values[:2], base[key].values)
    results = Results(config, ('base',), more)
    assert results.compare(honest, PRIOR_ONLY).episodes == 4
    assert results.compare(Cell('base', ORACLE, 0.0), PRIOR_ONLY).episodes == 2


@pytest.mark.parametrize(('fields', 'names'), [
    ({'seeds': ()}, 'seeds'),
    ({'alphas': (0.5, 1.0)}, 'alphas'),
    ({'kl_budgets': (0.0,)}, 'kl_budgets'),
    ({'noise_scales': (-1.0,)}, 'noise_scales'),
    ({'workers': 0}, 'workers'),
    ({'seeds': (0,), 'episodes_per_seed': 1}, 'episodes_per_seed'),
])
def test_eval_config_rejects_bad_fields_by_name(fields, names):
    with pytest.raises(ValueError, match=names):
        dataclasses.replace(EvalConfig(), **fields)
