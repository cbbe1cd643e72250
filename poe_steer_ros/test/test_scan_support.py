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

"""Scan sector features and the support model: known geometry, REP 117, monotone widening."""

import math
import pathlib

import numpy as np
from poe_steer_ros.core.observation import ObservationError, ObservationLayout
from poe_steer_ros.core.scan import ScanBinning, ScanError, ScanGeometry
from poe_steer_ros.core.support import SupportAwareActor, SupportError, SupportModel
import pytest

FULL_TURN = ScanGeometry(-math.pi, 2 * math.pi / 72, 72)


def test_sector_zero_is_straight_ahead_and_sectors_turn_counter_clockwise() -> None:
    binning = ScanBinning(4, 2.0)
    assert binning.sectors(np.array([0.0, 0.7, math.pi / 2, math.pi, -math.pi / 2])).tolist() \
        == [0, 0, 1, 2, 3]


def test_features_are_the_nearest_range_per_sector_over_the_cap() -> None:
    ranges = np.full(72, 3.0)
    ranges[36] = 0.5  # bearing 0: straight ahead
    ranges[54] = 1.0  # bearing +pi/2: left
    features = ScanBinning(4, 2.0).features(FULL_TURN, ranges, 0.05, 4.0)
    assert features.tolist() == [0.25, 0.5, 1.0, 1.0]


def test_readings_follow_rep_117() -> None:
    ranges = np.full(72, math.inf)  # no return anywhere
    ranges[0] = -math.inf           # too close, behind
    ranges[36] = 0.01               # below range_min, ahead
    features = ScanBinning(4, 2.0).features(FULL_TURN, ranges, 0.05, 4.0)
    assert features.tolist() == [0.0, 1.0, 0.0, 1.0]


@pytest.mark.parametrize('ranges, match', [
    (np.r_[np.full(71, 1.0), math.nan], 'NaN'),
    (np.full(70, 1.0), '70 ranges'),
])
def test_bad_scans_are_refused(ranges: np.ndarray, match: str) -> None:
    with pytest.raises(ScanError, match=match):
        ScanBinning(4, 2.0).features(FULL_TURN, ranges)


def test_a_sector_without_a_ray_is_refused() -> None:
    front_only = ScanGeometry(-0.5, 0.1, 11)
    with pytest.raises(ScanError, match='get no ray'):
        ScanBinning(4, 2.0).features(front_only, np.ones(11))


def test_layouts_read_scan_sectors_as_state_keys_and_need_all_of_them() -> None:
    layout = ObservationLayout(['base.v', 'scan.1', 'scan.0'])
    assert layout.scan_bins == 2
    assert layout.build({'base.v': 0.5, 'scan.0': 0.25, 'scan.1': 1.0}).tolist() == \
        [0.5, 1.0, 0.25]
    with pytest.raises(ObservationError, match='scan.0 .. scan.1'):
        ObservationLayout(['scan.0', 'scan.2'])


@pytest.fixture(scope='module')
def model() -> SupportModel:
    data = np.random.default_rng(0).normal(size=(4000, 3)) * [1.0, 2.0, 0.5] + [0.0, 5.0, 1.0]
    return SupportModel.fit(data, points=512, k=8)


def test_support_is_one_on_the_data_and_falls_monotonically_off_it(
        model: SupportModel) -> None:
    on = model.score(np.array([0.0, 5.0, 1.0]), gain=1.0)
    assert on.support == 1.0 and on.std_scale == 1.0 and on.ratio < 1.0
    scores = [model.score(np.array([0.0, 5.0 + 2.0 * sigmas, 1.0]), gain=1.0)
              for sigmas in (2.0, 4.0, 8.0, 16.0)]
    supports = [score.support for score in scores]
    scales = [score.std_scale for score in scores]
    assert supports == sorted(supports, reverse=True) and supports[-1] < 1e-3
    assert scales == sorted(scales) and scales[-1] > 5.0


def test_support_reference_covers_the_training_data(model: SupportModel) -> None:
    held_out = np.random.default_rng(1).normal(size=(500, 3)) * [1.0, 2.0, 0.5] + [0, 5, 1]
    on_support = np.mean([model.score(row, gain=1.0).support == 1.0 for row in held_out])
    assert on_support > 0.95


def test_std_widening_is_capped_and_off_at_gain_zero(model: SupportModel) -> None:
    far = np.array([100.0, 5.0, 1.0])
    assert model.score(far, gain=1.0, max_scale=20.0).std_scale == 20.0
    assert model.score(far, gain=0.0).std_scale == 1.0


def test_support_model_round_trips_through_npz(model: SupportModel,
                                               tmp_path: pathlib.Path) -> None:
    loaded = SupportModel.from_bytes(model.save(tmp_path / 'a.support.npz').read_bytes())
    probe = np.array([1.0, 3.0, 0.0])
    assert loaded.distance(probe) == pytest.approx(model.distance(probe), rel=1e-5)
    with pytest.raises(SupportError, match='not a support model'):
        SupportModel.from_bytes(b'not an npz')


class ConstantActor:
    """A stand-in actor: mean 0 and log-std 0 for any observation."""

    obs_dim = 3

    def __call__(self, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        shape = (2,) if np.ndim(obs) == 1 else (len(obs), 2)
        return np.zeros(shape), np.zeros(shape)


def test_support_aware_actor_widens_the_std_off_support_only(model: SupportModel) -> None:
    actor = SupportAwareActor(ConstantActor(), model, gain=2.0)
    _, on_log_std = actor(np.array([0.0, 5.0, 1.0]))
    assert on_log_std.tolist() == [0.0, 0.0] and actor.last.support == 1.0
    far = np.array([0.0, 25.0, 1.0])
    _, off_log_std = actor(far)
    assert np.allclose(off_log_std, math.log(actor.last.std_scale)) and actor.last.ratio > 2
    _, batch_log_std = actor(np.stack([np.array([0.0, 5.0, 1.0]), far]))
    assert np.allclose(batch_log_std, [on_log_std, off_log_std]) and actor.last is None
    with pytest.raises(SupportError, match='observation fields'):
        SupportAwareActor(type('Wide', (), {'obs_dim': 4})(), model, gain=1.0)
