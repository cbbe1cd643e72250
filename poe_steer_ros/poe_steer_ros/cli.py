"""
The ``poe-steer`` command.

Each subcommand is one ``_add_<name>(subparsers)`` function that declares its arguments and
sets ``handler``, a function from the parsed arguments to an exit code; ``SUBCOMMANDS`` lists
them. Heavy modules (ROS, training, evaluation) are imported inside their handlers, so
``inspect`` works without them.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
from typing import Any, Callable, Sequence

import numpy as np
from poe_steer_ros.core.actor import (ActorLoadError, DEVICES, FrozenActor, load_actor,
                                      measure_latency, PROBE_BATCH, sha256_of)
from poe_steer_ros.core.interfaces import OutputKind
from poe_steer_ros.core.manifest import ActorManifest, find_manifest, ManifestError

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
        description='Print an actor manifest, check the model file hash, load the model and '
                    'report shapes, std state dependence, device and forward latency.')
    parser.add_argument('model', metavar='MODEL_OR_MANIFEST',
                        help='the manifest (.yaml) or the model file next to it')
    parser.add_argument('--device', choices=DEVICES, default='auto')
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
    if not manifest.model_path.is_file():
        print(f'refused: model file {manifest.model_path} does not exist', file=sys.stderr)
        return EXIT_REFUSED
    actual = sha256_of(manifest.model_path)
    if actual != manifest.sha256:
        print(f'sha256    MISMATCH: file {actual}, manifest {manifest.sha256}')
        print('refused: the model changed since it was certified', file=sys.stderr)
        return EXIT_REFUSED
    print(f'sha256    OK ({actual})')
    try:
        actor = load_actor(manifest_path, args.device, args.threads, args.warmup)
    except (ActorLoadError, ValueError) as err:
        print(f'refused: {err}', file=sys.stderr)
        return EXIT_REFUSED
    _print_actor(actor, args)
    return EXIT_OK


def _print_actor(actor: FrozenActor, args: argparse.Namespace) -> None:
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
    print(f'device    {actor.device} (requested {args.device}), threads {args.threads}')
    print(f'warm-up   {actor.warmup_latency_s or "none"}')
    if args.iterations > 0:
        obs = actor.probe_observations(1)[0]
        print(f'steady    {measure_latency(actor, obs, args.iterations)} (batch 1)')
        batch = np.repeat(obs[None], 1024, axis=0)
        print(f'batch     {measure_latency(actor, batch, max(1, args.iterations // 100))} '
              '(batch 1024)')


def _add_demo(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        'demo', help='simulation + default frozen actor + live goal changes',
        description='Start the MuJoCo simulator and the steering node as processes and drive a '
                    'scripted scenario through ros2 parameters; print a table per segment and '
                    'write a trajectory plot.')
    parser.add_argument('--out', type=pathlib.Path, default=pathlib.Path('out/demo'),
                        help='output folder (default: out/demo)')
    parser.add_argument('--quick', action='store_true',
                        help='only the segments the test suite runs')
    parser.add_argument('--real-time-factor', type=float, default=4.0,
                        help='simulated seconds per wall second (default: 4)')
    parser.set_defaults(handler=_demo)


def _demo(args: argparse.Namespace) -> int:
    from poe_steer_ros.ros.demo import run_demo, summary_table  # needs rclpy: import on use
    segments = run_demo(args.out, quick=args.quick, real_time_factor=args.real_time_factor)
    print(summary_table(segments))
    print(f'\nplot: {args.out / "trajectories.png"}\nsummary: {args.out / "summary.md"}\n'
          f'node logs: {args.out / "logs"}')
    return EXIT_OK


def _add_bench(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        'bench', help='run the benchmarks and write docs/benchmarks.md',
        description='Time the core, the actor formats, the simulation and a control tick '
                    'through DDS; write a markdown report with plots.')
    parser.add_argument('--out', type=pathlib.Path, default=pathlib.Path('docs'),
                        help='folder of benchmarks.md and its plots (default: docs)')
    parser.add_argument('--quick', action='store_true',
                        help='a few iterations only, to prove the benchmarks run')
    parser.set_defaults(handler=_bench)


def _bench(args: argparse.Namespace) -> int:
    from poe_steer_ros.bench.report import write_report
    print(f'wrote {write_report(args.out, quick=args.quick)}')
    return EXIT_OK


SUBCOMMANDS: tuple[Callable[[Any], None], ...] = (_add_inspect, _add_demo, _add_bench)


def build_parser() -> argparse.ArgumentParser:
    """Return the ``poe-steer`` parser with every registered subcommand."""
    parser = argparse.ArgumentParser(
        prog='poe-steer', description='Steer a frozen robot policy with a goal prior.')
    subparsers = parser.add_subparsers(dest='command', required=True, metavar='COMMAND')
    for add_subcommand in SUBCOMMANDS:
        add_subcommand(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``poe-steer``; return the exit code (0 ok, 1 refused, 2 usage error)."""
    args = build_parser().parse_args(argv)
    return int(args.handler(args))


if __name__ == '__main__':
    sys.exit(main())
