"""The command line's environment help and docs/configuration.md say what the settings say: both are rendered
from the settings' fields, and the committed page must be what the renderer makes of them now."""

from pathlib import Path

from click.testing import CliRunner

from tagging_assets.cli.commands import main
from tagging_assets.cli.reference import PAGE, configuration_page
from tagging_assets.core.settings import TaggingSettings
from tagging_assets.core.settings_reference import variables
from tagging_assets.gateway.settings import FaultSettings, GatewaySettings

ROOT = Path(__file__).resolve().parents[2]


def test_the_committed_configuration_page_is_the_one_the_settings_render():
    committed = (ROOT / PAGE).read_text(encoding="utf-8")
    assert committed == configuration_page(), "the settings changed: run `make docs` and commit docs/configuration.md"


def test_the_configuration_page_names_every_variable_of_the_pipeline_and_the_gateway():
    page = configuration_page()
    for settings in (TaggingSettings, GatewaySettings, FaultSettings):
        for variable in variables(settings):
            assert all(f"`{name}`" in page for name in variable.names)
            assert variable.description in page


def test_the_help_names_every_variable_with_its_first_sentence():
    shown = CliRunner().invoke(main, ["--help"]).stdout
    assert "Environment (docs/configuration.md):" in shown
    lines = shown.splitlines()
    for variable in variables(TaggingSettings):
        [line] = [line for line in lines if line.split()[:1] == [variable.names[0]]]
        assert variable.summary in line
