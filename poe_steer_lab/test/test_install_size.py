"""install_size reads what a requirements file pulls in from the installed distributions."""

from poe_steer_lab.bench.install_size import closure, main, read_requirements
import pytest


@pytest.fixture
def requirements(tmp_path):
    included = tmp_path / 'included.txt'
    included.write_text('pytest>=7  # a comment\n')
    top = tmp_path / 'top.txt'
    top.write_text('# robots\n-r included.txt\n--index-url https://example.invalid\npyyaml\n')
    return top


def test_includes_are_followed_and_options_skipped(requirements):
    assert [r.name for r in read_requirements(requirements)] == ['pytest', 'pyyaml']


def test_the_closure_holds_dependencies_with_their_sizes(requirements):
    installed = {item.name: item for item in closure(read_requirements(requirements))}
    assert {'pytest', 'pyyaml', 'pluggy', 'iniconfig'} <= set(installed)
    assert all(item.size_bytes > 0 for item in installed.values())


def test_a_refused_distribution_fails(requirements, capsys):
    assert main([str(requirements)]) == 0
    assert 'pytest' in capsys.readouterr().out
    assert main([str(requirements), '--refuse', 'PyTest']) == 1
    assert main([str(requirements), '--numpy', '0.0.1']) == 1
