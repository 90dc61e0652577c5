"""The layers hold as the architecture page draws them: the library never imports Dagster, and the gateway imports
of the pipeline only the contracts, the protocols' facts, how settings meet the environment, and the realtime
executor, which its upstream mode sends through rather than write a second one."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "tagging_assets"
GATEWAY_MAY_IMPORT = {
    f"tagging_assets.core.{module}" for module in ("contracts", "protocol", "environment", "executor")
}


def imported_modules(folder: str) -> dict[str, set[str]]:
    """Each module of the folder and every module it imports, at any depth of its code."""
    found: dict[str, set[str]] = {}
    for path in sorted((PACKAGE / folder).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[str(path.relative_to(PACKAGE))] = names
    return found


@pytest.mark.parametrize("folder", ["core", "wire", "batches", "seed", "gateway"])
def test_the_library_and_the_gateway_never_import_dagster(folder):
    for module, names in imported_modules(folder).items():
        assert not any(name == "dagster" or name.startswith("dagster.") for name in names), module


def test_the_gateway_imports_of_the_pipeline_only_the_contracts_the_protocols_and_the_environment_reader():
    for module, names in imported_modules("gateway").items():
        pipeline = {name for name in names if name.startswith("tagging_assets.")}
        outside = {name for name in pipeline if not name.startswith("tagging_assets.gateway")}
        assert outside <= GATEWAY_MAY_IMPORT, f"{module} imports {sorted(outside - GATEWAY_MAY_IMPORT)}"
