"""The mechanism author's guide (docs/mechanisms.md) stays true to the engine.

Its complete examples must validate (a block whose first line is `# mechanism: <code>` as a mechanism,
`# pack: <code>` as a rule pack loaded beside the shipped mechanisms and packs, `# refused-pack: <code>`
as a pack that loading refuses), every YAML block must at least parse, and every key of the schema must
be named in the guide as `key`, so that a key added to schema.py without documentation fails here.
"""

from __future__ import annotations

import re
import shutil
import types
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

import pytest
from django.conf import settings
from pydantic import BaseModel

from taizhang.mechanisms.errors import MechanismError
from taizhang.mechanisms.register_schema import RegisterDef
from taizhang.mechanisms.registry import load_directory
from taizhang.mechanisms.schema import MechanismDef, PackDef, RolesFile
from taizhang.mechanisms.validate import validate_mechanism
from taizhang.mechanisms.validate_register import validate_register
from taizhang.mechanisms.yamlfile import parse_lined_yaml

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "mechanisms.md"
BLOCK = re.compile(r"^```yaml\n(.*?)^```", re.MULTILINE | re.DOTALL)
MARKER = re.compile(r"\A# (mechanism|pack|refused-pack|register): ([a-z][a-z0-9_]*)\n")
# The file formats an author writes: a mechanism, a rule pack, the platform's roles file, a register.
ROOT_MODELS = (MechanismDef, PackDef, RolesFile, RegisterDef)


def guide_text() -> str:
    return GUIDE.read_text(encoding="utf-8")


def yaml_blocks(text: str) -> list[tuple[int, str]]:
    """Every ```yaml block of the guide, with the line its text starts on."""
    return [(text[: m.start(1)].count("\n") + 1, m.group(1)) for m in BLOCK.finditer(text)]


def marked_blocks(text: str, kind: str) -> dict[str, str]:
    """The blocks marked `# <kind>: <code>`, by code."""
    out: dict[str, str] = {}
    for _, block in yaml_blocks(text):
        m = MARKER.match(block)
        if m and m.group(1) == kind:
            assert m.group(2) not in out, f"two guide examples marked {kind}: {m.group(2)}"
            out[m.group(2)] = block
    return out


def models_under(model: type[BaseModel], seen: set[type[BaseModel]] | None = None) -> set[type[BaseModel]]:
    """The model and every model its fields refer to, however deeply (through lists, dicts, unions)."""
    seen = set() if seen is None else seen
    if model in seen:
        return seen
    seen.add(model)
    for field in model.model_fields.values():
        for tp in nested_types(field.annotation):
            if isinstance(tp, type) and issubclass(tp, BaseModel):
                models_under(tp, seen)
    return seen


def nested_types(tp: Any) -> list[Any]:
    origin = get_origin(tp)
    if origin is None:
        return [tp]
    if origin is Annotated:
        return nested_types(get_args(tp)[0])
    if origin in (Union, types.UnionType, list, dict, tuple):
        return [inner for arg in get_args(tp) for inner in nested_types(arg)]
    return []


def schema_keys() -> dict[str, set[str]]:
    """Every key an author can write (a field's alias where it has one: `from`), with its models."""
    keys: dict[str, set[str]] = {}
    for root in ROOT_MODELS:
        for model in models_under(root):
            for name, field in model.model_fields.items():
                keys.setdefault(field.alias or name, set()).add(model.__name__)
    return keys


def undocumented(text: str) -> dict[str, set[str]]:
    return {key: models for key, models in schema_keys().items() if f"`{key}`" not in text}


# -- the schema is documented -------------------------------------------------------------------------


def test_every_schema_key_is_documented():
    missing = undocumented(guide_text())
    assert not missing, "keys missing from docs/mechanisms.md (write them as `key`): " + ", ".join(
        f"{key} ({'/'.join(sorted(models))})" for key, models in sorted(missing.items())
    )


def test_the_key_check_sees_nested_models_and_aliases():
    keys = schema_keys()
    # Deep models (Escalation under Supervision, KpiWeights under KpiRules, IntakeOverride under a pack's
    # PackOverride, RoleDef under the roles file) and the alias `from` of TransitionDef.from_.
    for key, model in [
        ("levels", "Escalation"),
        ("satisfaction", "KpiWeights"),
        ("channels", "IntakeOverride"),
        ("flag_and_urge_only", "RoleDef"),
        ("from", "TransitionDef"),
        ("decimals", "PublicLocation"),
        ("within", "TransitionOverride"),
    ]:
        assert model in keys.get(key, set()), (key, model)
    assert "from_" not in keys


def test_the_key_check_fails_when_a_key_is_left_out():
    text = guide_text()
    assert undocumented(text.replace("`extend_max`", "extend_max")) == {
        "extend_max": {"TransitionDef", "TransitionOverride"}
    }
    assert "place_readers" in undocumented(text.replace("`place_readers`", "place_readers"))


# -- the examples are valid ---------------------------------------------------------------------------


def test_every_yaml_block_parses():
    blocks = yaml_blocks(guide_text())
    assert len(blocks) > 20
    for line, block in blocks:
        try:
            parse_lined_yaml(block, f"docs/mechanisms.md:{line}")
        except MechanismError as exc:  # pragma: no cover - the message is the point
            pytest.fail(f"YAML block at docs/mechanisms.md line {line} does not parse:\n{exc}")


def complete_mechanisms() -> dict[str, str]:
    found = marked_blocks(guide_text(), "mechanism")
    assert found, "the guide has no block marked `# mechanism: <code>`"
    return found


@pytest.mark.parametrize("code", sorted(marked_blocks(guide_text(), "mechanism")))
def test_complete_mechanism_examples_validate(code):
    text = complete_mechanisms()[code]
    mech = validate_mechanism(parse_lined_yaml(text, f"{code}.yaml"))
    assert mech.code == code


def test_the_worked_example_uses_its_own_roles():
    mech = validate_mechanism(parse_lined_yaml(complete_mechanisms()["river"], "river.yaml"))
    assert {r.code for r in mech.roles} == {"river_chief", "patroller"}
    assert "river_chief@supervisor" in next(t for t in mech.transitions if t.code == "pass").roles


def shipped_with_guide(directory: Path, packs: dict[str, str]) -> Path:
    """A copy of the shipped mechanisms and packs, plus the guide's mechanisms and the given packs."""
    shipped = Path(settings.TAIZHANG_MECHANISM_DIR)
    (directory / "packs").mkdir()
    for path in shipped.glob("*.yaml"):
        shutil.copy(path, directory / path.name)
    for path in (shipped / "packs").glob("*.yaml"):
        shutil.copy(path, directory / "packs" / path.name)
    for code, text in complete_mechanisms().items():
        (directory / f"{code}.yaml").write_text(text, encoding="utf-8")
    for code, text in {**packs, **marked_blocks(guide_text(), "register")}.items():
        folder = directory if code in marked_blocks(guide_text(), "register") else directory / "packs"
        folder.joinpath(f"{code}.yaml").write_text(text, encoding="utf-8")
    return directory


def test_pack_examples_load_beside_the_shipped_mechanisms_and_packs(tmp_path):
    packs = marked_blocks(guide_text(), "pack")
    assert packs, "the guide has no block marked `# pack: <code>`"
    registry = load_directory(shipped_with_guide(tmp_path, packs))
    loaded = {p.pack for p in registry.packs}
    assert set(packs) | {"luzhou"} <= loaded
    river = registry.get("river")
    assert river.intake_photos("patrol", "/CZS/LZQ/WMJD/") == 1
    assert river.intake_photos("resident", "/CZS/LZQ/WMJD/") == 0


@pytest.mark.parametrize("code", sorted(marked_blocks(guide_text(), "refused-pack")))
def test_refused_pack_examples_are_refused(tmp_path, code):
    text = marked_blocks(guide_text(), "refused-pack")[code]
    with pytest.raises(MechanismError) as info:
        load_directory(shipped_with_guide(tmp_path, {code: text}))
    (problem,) = info.value.problems
    assert problem.file == f"packs/{code}.yaml"
    assert "无法确定以哪个为准" in problem.message


@pytest.mark.parametrize("code", sorted(marked_blocks(guide_text(), "register")))
def test_register_examples_validate_and_load(tmp_path, code):
    """A register of the guide validates alone and loads beside the shipped files, and a case
    mechanism's `reference` field may name it."""
    text = marked_blocks(guide_text(), "register")[code]
    assert validate_register(parse_lined_yaml(text, f"{code}.yaml")).code == code
    registry = load_directory(shipped_with_guide(tmp_path, {}))
    assert code in registry.registers and "enterprise" in registry.registers
