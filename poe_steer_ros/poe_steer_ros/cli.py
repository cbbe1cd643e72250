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
The ``poe-steer`` command of the runtime: ``poe-steer inspect`` checks and describes an actor.

Each subcommand is one ``_add_<name>(subparsers)`` function that declares its arguments and
sets ``handler``, a function from the parsed arguments to an exit code; ``SUBCOMMANDS`` lists
them. The lab's commands (train, eval, bench, reliability, demo) are ``poe-steer-lab``.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, Callable, Sequence

import numpy as np
from poe_steer_ros.core.actor import (ActorLoadError, DEVICES, FORMAT_REQUESTS, FrozenActor,
                                      load_actor, measure_latency, PROBE_BATCH,
                                      read_model_file)
from poe_steer_ros.core.interfaces import OutputKind
from poe_steer_ros.core.manifest import (ActorManifest, find_manifest, ManifestError, ModelFile,
                                         SupportSpec)
from poe_steer_ros.subcommands import command_parser, run_command

EXIT_OK = 0
EXIT_REFUSED = 1
"""The actor is not loadable: bad manifest, changed file, incompatible model."""

_SQUASH = {
    OutputKind.GAUSSIAN: 'command = offset + scale * clip(u, -1, 1)',
    OutputKind.TANH_GAUSSIAN: 'command = offset + scale * tanh(u)',
    OutputKind.DETERMINISTIC: 'command = offset + scale * clip(u, -1, 1), std assumed',
}


def _add_inspect(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        'inspect', help='check and describe a frozen actor',
        description='Print an actor manifest, check the hash of every model file it '
                    'certifies, print the bundle hash (manifest and files together, the value '
                    'of the node parameter actor.bundle_sha256), load the one that runs on the '
                    'device and report shapes, std state dependence, device and forward '
                    'latency.')
    parser.add_argument('model', metavar='MODEL_OR_MANIFEST',
                        help='the manifest (.yaml) or the model file next to it')
    parser.add_argument('--device', choices=DEVICES, default='auto')
    parser.add_argument('--format', choices=FORMAT_REQUESTS, default='auto', dest='model_format',
                        help='which certified file to load (auto: the one the node would run)')
    parser.add_argument('--threads', type=int, default=1, help='CPU inference threads')
    parser.add_argument('--warmup', type=int, default=10, help='warm-up passes at load')
    parser.add_argument('--iterations', type=int, default=1000,
                        help='steady-state single-observation passes to time')
    parser.set_defaults(handler=_inspect)


def _inspect(args: argparse.Namespace) -> int:
    try:
        manifest_path = find_manifest(args.model)
        manifest = ActorManifest.load(manifest_path)
    except ManifestError as err:
        print(f'refused: {err}', file=sys.stderr)
        return EXIT_REFUSED
    print(f'manifest  {manifest_path}')
    print(manifest.to_yaml())
    certified: tuple[ModelFile | SupportSpec, ...] = (
        *manifest.model_files, *([manifest.support] if manifest.support else []))
    for model_file in certified:
        try:
            _, actual = read_model_file(manifest, model_file)
        except ActorLoadError as err:
            print(f'refused: {err}', file=sys.stderr)
            return EXIT_REFUSED
        if actual != model_file.sha256:
            print(f'sha256    {model_file.file}: MISMATCH: file {actual}, manifest '
                  f'{model_file.sha256}')
            print('refused: the model changed since it was certified', file=sys.stderr)
            return EXIT_REFUSED
        print(f'sha256    {model_file.file}: OK ({actual})')
    print(f'bundle    {manifest.bundle_sha256} (pin it with actor.bundle_sha256)')
    try:
        actor = load_actor(manifest_path, args.device, args.threads, args.warmup,
                           args.model_format)
    except (ActorLoadError, ValueError) as err:
        print(f'refused: {err}', file=sys.stderr)
        return EXIT_REFUSED
    _print_actor(actor, args)
    return EXIT_OK


def _print_actor(actor: FrozenActor, args: argparse.Namespace) -> None:
    print(f'runs      {actor.manifest.file} ({actor.manifest.format.value}; requested '
          f'{args.model_format})')
    print(f'input     observation float32 (N, {actor.obs_dim}), built from:')
    for index, field, source in actor.observation_layout.describe():
        print(f'            [{index}] {field:<24} <- {source}')
    print(f'output    mean, log_std float64 (N, {actor.action_dim}); model returns '
          f'{", ".join(str(s) for s in actor.output_shapes)} for a batch of {PROBE_BATCH}')
    print(f'kind      {actor.output_kind.value}: {_SQUASH[actor.output_kind]}')
    if actor.std_depends_on_state:
        print('std       depends on the state')
    else:
        print('std       does not depend on the state: PoE weights will not vary with it')
    support, spec = actor.support, actor.manifest.support
    if support is None or spec is None:
        print("support   none: no model of the training data; the std is the actor's own")
    else:
        print(f'support   {spec.file}: k-NN over {support.points.shape[0]} '
              f'training observations, k {support.k}, reference distance '
              f'{support.reference:.3f} ({support.quantile:g} quantile)')
    print(f'device    {actor.device} (requested {args.device}), threads {args.threads}')
    print(f'warm-up   {actor.warmup_latency_s or "none"}')
    if args.iterations > 0:
        obs = actor.probe_observations(1)[0]
        print(f'steady    {measure_latency(actor, obs, args.iterations)} (batch 1)')
        batch = np.repeat(obs[None], 1024, axis=0)
        print(f'batch     {measure_latency(actor, batch, max(1, args.iterations // 100))} '
              '(batch 1024)')


SUBCOMMANDS: tuple[Callable[[Any], None], ...] = (_add_inspect,)


def build_parser() -> argparse.ArgumentParser:
    """Return the ``poe-steer`` parser with every registered subcommand."""
    return command_parser('poe-steer', 'Steer a frozen robot policy with a goal prior.',
                          SUBCOMMANDS)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``poe-steer``; return the exit code (0 ok, 1 refused, 2 usage error)."""
    return run_command(build_parser(), argv)


if __name__ == '__main__':
    sys.exit(main())
