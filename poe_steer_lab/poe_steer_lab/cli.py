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
The ``poe-steer-lab`` command: training, evaluation, OGBench, benchmarks, reliability, demo.

Each subcommand is one ``_add_<name>(subparsers)`` function that declares its arguments and
sets ``handler``, a function from the parsed arguments to an exit code; ``SUBCOMMANDS`` lists
them. Heavy modules (ROS, training, evaluation) are imported inside their handlers.
"""

from __future__ import annotations

import argparse
import dataclasses
import pathlib
import sys
from typing import Any, Callable, Sequence

from poe_steer_ros.subcommands import command_parser, run_command

EXIT_OK = 0
EXIT_BROKEN = 1
"""``reliability``: a guarantee of the steering node did not hold."""
EXIT_USAGE = 2
"""Options that parse but do not fit together (argparse's own code for bad options)."""


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
    from poe_steer_lab.ros.demo import run_demo, summary_table  # needs rclpy: import on use
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
    parser.add_argument('--only', action='append', default=[], metavar='NAME',
                        help='run this benchmark only and replace its section of an existing '
                             'report (repeatable): core, actor, simulation, control tick '
                             'through DDS, startup')
    parser.set_defaults(handler=_bench)


def _bench(args: argparse.Namespace) -> int:
    from poe_steer_lab.bench.report import write_report
    print(f'wrote {write_report(args.out, quick=args.quick, only=args.only)}')
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
    parser.add_argument('--seeing', action='store_true',
                        help='train the actor that sees: scan features instead of the pose, '
                             'data from random obstacle layouts, a support model in the bundle')
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
    from poe_steer_lab.offline.train import format_summary, train, TrainConfig  # d3rlpy: on use
    if args.quick:
        config = dataclasses.replace(TrainConfig.quick(args.seed), seeing=args.seeing)
    else:
        config = (TrainConfig.seeing_actor if args.seeing else TrainConfig)(seed=args.seed)
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
    from poe_steer_lab.eval.harness import run_evaluation  # torch, d3rlpy: import on use
    competent = args.competent if args.competent.is_file() else None
    if competent is None:
        print(f'{args.competent} not found: the competent actor will be trained',
              file=sys.stderr)
    words = ['python -m poe_steer_lab.cli eval', *(['--quick'] if args.quick else [])]
    words += [f'--{name} {getattr(args, name)}' for name, default in _EVAL_DEFAULTS.items()
              if getattr(args, name) != default]
    command = ' '.join(words) if len(words) > 1 else 'make eval'  # the Makefile runs words[0]
    report = run_evaluation(args.out, quick=args.quick, cache_dir=args.cache,
                            competent_manifest=competent, workers=args.workers,
                            command=command)
    print(f'wrote {report}')
    return EXIT_OK


_OGBENCH_DEFAULTS: dict[str, Any] = {
    'out': pathlib.Path('docs'), 'cache': pathlib.Path('out/ogbench'),
    'maze': ['medium', 'large'],
    'goals': [1, 2, 3, 4, 5], 'dataset_episodes': 1000, 'episodes': 16, 'max_episodes': 512,
    'max_steps': 1000, 'workers': 2}
"""Defaults of ``ogbench``'s options, relative to the repository root."""


def _add_ogbench(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        'ogbench', help="the paper's protocol on OGBench PointMaze; writes docs/ogbench.md",
        description='Regenerate OGBench PointMaze navigate datasets locally, train frozen '
                    'actors on task 1, steer them toward the given goals with every rule and '
                    'prior of the evaluation protocol, and write ogbench.md with its plots.')
    parser.add_argument('--out', type=pathlib.Path,
                        help='folder of ogbench.md and its plots (default: docs)')
    parser.add_argument('--cache', type=pathlib.Path,
                        help='folder of the datasets and actors, reused by reruns '
                             '(default: out/ogbench)')
    parser.add_argument('--maze', nargs='+', choices=('medium', 'large', 'giant', 'teleport'),
                        help='PointMaze layouts (default: medium large)')
    parser.add_argument('--goals', nargs='+', type=int, choices=range(1, 6),
                        help='OGBench tasks to steer toward; 1 is the training task '
                             '(default: 1 2 3 4 5)')
    parser.add_argument('--dataset-episodes', type=_workers,
                        help='training episodes per dataset (default: 1000, as OGBench)')
    parser.add_argument('--episodes', type=_workers,
                        help='paired episodes every cell plays (default: 16)')
    parser.add_argument('--max-episodes', type=_workers,
                        help='episodes a grid cell may play in all while a HELP/HURT interval '
                             'is wider than its effect (default: 512)')
    parser.add_argument('--max-steps', type=_workers,
                        help='steps before an episode counts as failed (default: 1000, as '
                             'OGBench)')
    parser.add_argument('--workers', type=_workers, help='worker processes (default: 2)')
    parser.add_argument('--quick', action='store_true',
                        help='tiny budgets (seconds): proves every table and plot is written')
    parser.set_defaults(handler=_ogbench, **_OGBENCH_DEFAULTS)


def _ogbench(args: argparse.Namespace) -> int:
    from poe_steer_lab.ogbench.harness import run_ogbench, RunSettings  # torch: import on use
    try:
        settings = RunSettings(mazes=tuple(args.maze), goals=tuple(sorted(set(args.goals))),
                               dataset_episodes=args.dataset_episodes,
                               episodes_per_seed=args.episodes, max_episodes=args.max_episodes,
                               max_steps=args.max_steps, workers=args.workers,
                               quick=args.quick)
    except ValueError as error:
        print(f'ogbench: {error}', file=sys.stderr)
        return EXIT_USAGE
    words = ['python -m poe_steer_lab.cli ogbench', *(['--quick'] if args.quick else [])]
    for name, default in _OGBENCH_DEFAULTS.items():
        value = getattr(args, name)
        if value != default:
            shown = ' '.join(map(str, value)) if isinstance(value, list) else value
            words.append(f'--{name.replace("_", "-")} {shown}')
    command = ' '.join(words) if len(words) > 1 else 'make ogbench'
    report = run_ogbench(args.out, settings, cache=args.cache, command=command)
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
    from poe_steer_lab.reliability.report import write_report  # rclpy: import on use
    campaign = write_report(args.out, args.logs, quick=args.quick)
    print(f'wrote {args.out / "reliability.md"}')
    return EXIT_OK if campaign.passed else EXIT_BROKEN


def _add_reach(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        'reach', help='goal-grid benchmark: which goals each configuration reaches',
        description='Try every goal the planner can reach, from rest at the start pose, for '
                    'frozen, prior-only and PoE with each prior, the KL-budget selector and the '
                    "shipped settings, for each actor, through the node's Steerer in-process; "
                    'write reach.md with a table per world and pictures of the outcomes.')
    parser.add_argument('--world', action='append', dest='worlds', metavar='FILE',
                        help='world YAML (repeatable; a bare name is looked up in '
                             "poe_steer_sim's config folder; default: the default world and "
                             'the three moved-obstacle worlds)')
    parser.add_argument('--goals', type=pathlib.Path, default=None,
                        help='goal set: a YAML list of [x, y] (default: a 0.8 m grid over the '
                             'whole arena, a 0.5 m grid over the training region and (4, 1.5))')
    parser.add_argument('--actor', action='append', dest='actors', metavar='NAME=MANIFEST',
                        help='an actor to steer (repeatable; default: the installed '
                             'blind=models/default_actor.pt.yaml and, when shipped, '
                             'seeing=models/seeing_actor.pt.yaml)')
    parser.add_argument('--variant', action='append', dest='variants', default=[],
                        metavar='LABEL:NAME=VALUE[,NAME=VALUE]',
                        help='one more configuration: node parameters over config/steer.yaml')
    parser.add_argument('--rows', type=lambda text: text.split(','), default=None,
                        metavar='LABEL[,LABEL]',
                        help='only these built-in configurations (default: all of them)')
    parser.add_argument('--steer-yaml', type=pathlib.Path, default=None,
                        help="the node's parameter file (default: the installed "
                             'config/steer.yaml)')
    parser.add_argument('--out', type=pathlib.Path, default=pathlib.Path('docs'),
                        help='folder of reach.md and its pictures (default: docs)')
    parser.add_argument('--cache', type=pathlib.Path, default=pathlib.Path('out/reach/cache'),
                        help='episode cache, reused by reruns (default: out/reach/cache)')
    parser.add_argument('--workers', type=_workers, default=1,
                        help='worker processes (default: 1)')
    parser.add_argument('--quick', action='store_true',
                        help='the default world, three goals, frozen and shipped only')
    parser.add_argument('--dds', action='store_true',
                        help='also run a subset through the real node, planner and simulator '
                             'processes and compare with the in-process outcomes')
    parser.set_defaults(handler=_reach)


def _reach(args: argparse.Namespace) -> int:
    from ament_index_python.packages import get_package_share_directory
    import yaml

    from poe_steer_lab.reach.benchmark import load_goals
    from poe_steer_lab.reach.run import DEFAULT_WORLDS, ReachRun, run_reach, world_path
    share = pathlib.Path(get_package_share_directory('poe_steer_ros'))
    models = share / 'models'
    shipped = [f'blind={models / "default_actor.pt.yaml"}'] + (
        [f'seeing={models / "seeing_actor.pt.yaml"}']
        if (models / 'seeing_actor.pt.yaml').is_file() else [])
    actors = dict(text.split('=', 1) for text in args.actors or shipped)
    variants = {}
    for text in args.variants:
        label, _, assignments = text.partition(':')
        variants[label] = {name: yaml.safe_load(value) for name, value in
                           (item.split('=', 1) for item in assignments.split(',') if item)}
    worlds = args.worlds or (DEFAULT_WORLDS[:1] if args.quick else DEFAULT_WORLDS)
    run = ReachRun(worlds=[world_path(name) for name in worlds],
                   goals=load_goals(args.goals) if args.goals else None,
                   manifests={name: pathlib.Path(path) for name, path in actors.items()},
                   variants=variants, out_dir=args.out,
                   steer_yaml=args.steer_yaml or share / 'config' / 'steer.yaml',
                   cache_dir=args.cache, quick=args.quick, rows=args.rows,
                   workers=args.workers,
                   command=' '.join(['poe-steer-lab reach', *sys.argv[2:]]))
    report, results = run_reach(run)
    print(f'wrote {report}')
    if args.dds:
        from poe_steer_lab.reach.dds import compare_dds  # rclpy: import on use
        print(compare_dds(run, results[0], args.out))
    return EXIT_OK


SUBCOMMANDS: tuple[Callable[[Any], None], ...] = (
    _add_demo, _add_bench, _add_train, _add_eval, _add_ogbench, _add_reliability, _add_reach)


def build_parser() -> argparse.ArgumentParser:
    """Return the ``poe-steer-lab`` parser with every registered subcommand."""
    return command_parser('poe-steer-lab',
                          'Train, evaluate, benchmark and demonstrate poe_steer_ros.', SUBCOMMANDS)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``poe-steer-lab``; return the exit code (0 ok, 1 broken guarantee, 2 usage error)."""
    return run_command(build_parser(), argv)


if __name__ == '__main__':
    sys.exit(main())
