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
from poe_steer_ros.core.actor import (ActorLoadError, DEVICES, FORMAT_REQUESTS, FrozenActor,
                                      load_actor, measure_latency, PROBE_BATCH,
                                      read_model_file)
from poe_steer_ros.core.interfaces import OutputKind
from poe_steer_ros.core.manifest import ActorManifest, find_manifest, ManifestError

EXIT_OK = 0
EXIT_REFUSED = 1
"""The actor is not loadable: bad manifest, changed file, incompatible model."""
EXIT_BROKEN = 1
"""``reliability``: a guarantee of the steering node did not hold."""

_SQUASH = {
    OutputKind.GAUSSIAN: 'command = offset + scale * clip(u, -1, 1)',
    OutputKind.TANH_GAUSSIAN: 'command = offset + scale * tanh(u)',
    OutputKind.DETERMINISTIC: 'command = offset + scale * clip(u, -1, 1), std assumed',
}


def _add_inspect(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        'inspect', help='check and describe a frozen actor',
        description='Print an actor manifest, check the hash of every model file it '
                    'certifies, load the one that runs on the device and report shapes, std '
                    'state dependence, device and forward latency.')
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
    for model_file in manifest.model_files:
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
    parser.add_argument('--real-time-factor', type=float, default=2.0,
                        help='simulated seconds per wall second (default: 2)')
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


def _add_train(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        'train', help='train a goal-conditioned frozen actor offline',
        description='Record behaviour episodes in the MuJoCo diff-drive world, train a d3rlpy '
                    'CQL actor offline, export it as TorchScript with a manifest (SHA-256, '
                    'provenance) and evaluate it in closed loop on goals of the training region '
                    'and on shifted goals. The same seed gives the same actor.')
    parser.add_argument('--out', type=pathlib.Path, required=True,
                        help='folder of the model <name>.pt and its manifest <name>.pt.yaml')
    parser.add_argument('--seed', type=_seed, default=0,
                        help='seeds the dataset, the initialisation and the minibatches '
                             '(default: 0)')
    parser.add_argument('--quick', action='store_true',
                        help='tiny dataset and 200 gradient steps (seconds): proves the '
                             'pipeline runs, the actor is not competent')
    parser.add_argument('--name', default='actor', help='file stem of the artifacts '
                                                        '(default: actor)')
    parser.add_argument('--report-dir', type=pathlib.Path, default=None,
                        help='folder of <name>.train.yaml and <name>_trajectories.png '
                             '(default: --out)')
    parser.set_defaults(handler=_train)


def _seed(text: str) -> int:
    try:
        seed = int(text)
    except ValueError:
        seed = -1
    if seed < 0:
        raise argparse.ArgumentTypeError(f'expected an integer >= 0, got {text!r}')
    return seed


def _train(args: argparse.Namespace) -> int:
    from poe_steer_ros.offline.train import format_summary, train, TrainConfig  # d3rlpy: on use
    config = TrainConfig.quick(args.seed) if args.quick else TrainConfig(seed=args.seed)
    result = train(config, args.out, args.name, args.report_dir)
    print(format_summary(result))
    print(f'\nactor: {result.manifest_path}\nreport: {result.report_path}\n'
          f'plot: {result.plot_path}\nwall time: {result.wall_time_s:.0f} s')
    return EXIT_OK


_EVAL_DEFAULTS: dict[str, Any] = {
    'out': pathlib.Path('docs'), 'cache': pathlib.Path('out/eval/actors'),
    'competent': pathlib.Path('poe_steer_ros/models/default_actor.pt.yaml'), 'workers': 2}
"""Defaults of ``eval``'s options, relative to the repository root (where ``make eval`` runs)."""


def _add_eval(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        'eval', help="reproduce the paper's evaluation protocol and write docs/results.md",
        description='Train (or reuse) frozen actors of three competence levels, steer them with '
                    'oracle, degraded and random priors under every composition rule and '
                    'several objective shifts, compare each with the frozen actor by paired '
                    'bootstrap, and write results.md with its plots.')
    parser.add_argument('--out', type=pathlib.Path,
                        help='folder of results.md and its plots (default: docs)')
    parser.add_argument('--cache', type=pathlib.Path,
                        help='folder of the trained actors, reused by reruns '
                             '(default: out/eval/actors)')
    parser.add_argument('--competent', type=pathlib.Path,
                        help='manifest of the competent actor; if the file is absent the actor '
                             "is trained with the pipeline's full recipe (default: the shipped "
                             'poe_steer_ros/models/default_actor.pt.yaml)')
    parser.add_argument('--workers', type=_workers, help='worker processes (default: 2)')
    parser.add_argument('--quick', action='store_true',
                        help='tiny budgets everywhere (about 20 s): proves every table and plot '
                             'is written, the numbers mean nothing')
    parser.set_defaults(handler=_eval, **_EVAL_DEFAULTS)


def _workers(text: str) -> int:
    try:
        workers = int(text)
    except ValueError:
        workers = 0
    if workers < 1:
        raise argparse.ArgumentTypeError(f'expected an integer >= 1, got {text!r}')
    return workers


def _eval(args: argparse.Namespace) -> int:
    from poe_steer_ros.eval.harness import run_evaluation  # torch, d3rlpy: import on use
    competent = args.competent if args.competent.is_file() else None
    if competent is None:
        print(f'{args.competent} not found: the competent actor will be trained',
              file=sys.stderr)
    words = ['python -m poe_steer_ros.cli eval', *(['--quick'] if args.quick else [])]
    words += [f'--{name} {getattr(args, name)}' for name, default in _EVAL_DEFAULTS.items()
              if getattr(args, name) != default]
    command = ' '.join(words) if len(words) > 1 else 'make eval'  # the Makefile runs words[0]
    report = run_evaluation(args.out, quick=args.quick, cache_dir=args.cache,
                            competent_manifest=competent, workers=args.workers,
                            command=command)
    print(f'wrote {report}')
    return EXIT_OK


def _add_reliability(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        'reliability', help='fuzz, soak and fault-inject the steering node',
        description='Run the reliability campaign (fuzzing, a soak, every fault) against real '
                    'steering node processes and write docs/reliability.md with its soak plot.')
    parser.add_argument('--out', type=pathlib.Path, default=pathlib.Path('docs'),
                        help='folder of reliability.md and its plot (default: docs)')
    parser.add_argument('--logs', type=pathlib.Path, default=pathlib.Path('out/reliability'),
                        help="folder of every node's output (default: out/reliability)")
    parser.add_argument('--quick', action='store_true',
                        help='the small plan: seconds per part instead of the full counts')
    parser.set_defaults(handler=_reliability)


def _reliability(args: argparse.Namespace) -> int:
    from poe_steer_ros.reliability.report import write_report  # rclpy: import on use
    campaign = write_report(args.out, args.logs, quick=args.quick)
    print(f'wrote {args.out / "reliability.md"}')
    return EXIT_OK if campaign.passed else EXIT_BROKEN


SUBCOMMANDS: tuple[Callable[[Any], None], ...] = (
    _add_inspect, _add_demo, _add_bench, _add_train, _add_eval, _add_reliability)


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
