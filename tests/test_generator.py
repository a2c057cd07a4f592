"""The procedural program generator: deterministic, distinct, valid, and honestly labelled."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from synthgen.sources.shader import generator
from synthgen.sources.shader.generator import LICENCE, builder, fields, generate_program, generate_programs, transforms
from synthgen.sources.shader.gl import ShaderCompileError, ShaderRenderer
from synthgen.sources.shader.programs import program_from_glsl


@pytest.fixture(scope="module")
def programs():
    return generate_programs(300, seed=0)


def test_same_seed_and_index_give_identical_code():
    a, b = generate_program(5, 17), generate_program(5, 17)
    assert a == b
    assert a.id == "generated/5/000017"
    assert a.licence == LICENCE


def test_code_is_identical_in_another_process_whatever_the_hash_seed():
    script = (
        "import hashlib; from synthgen.sources.shader.generator import generate_programs; "
        "print(hashlib.sha256(''.join(p.code for p in generate_programs(40, 9)).encode()).hexdigest())"
    )
    here = hashlib.sha256("".join(p.code for p in generate_programs(40, 9)).encode()).hexdigest()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
        assert out.stdout.strip() == here


def test_different_seeds_and_indices_give_different_programs():
    assert generate_program(0, 3).code != generate_program(1, 3).code
    assert generate_program(0, 3).code != generate_program(0, 4).code
    seed0 = {p.code for p in generate_programs(50, 0)}
    seed1 = {p.code for p in generate_programs(50, 1)}
    assert not seed0 & seed1


def test_generate_programs_ids_and_distinct_code(programs):
    assert [p.id for p in programs] == [f"generated/0/{i:06d}" for i in range(300)]
    assert len({p.code for p in programs}) == len(programs)
    # Without collisions, program i is exactly generate_program(seed, i).
    assert all(p == generate_program(0, i) for i, p in enumerate(programs[:50]))


def test_a_colliding_draw_is_redrawn(monkeypatch):
    build = generator._build

    def colliding(seed: int, index: int, attempt: int):
        # index 1's first draw repeats index 0's program
        return build(seed, 0, 0) if (index, attempt) == (1, 0) else build(seed, index, attempt)

    monkeypatch.setattr(generator, "_build", colliding)
    first, second, third = generate_programs(3, 0)
    assert generate_program(0, 1).code == first.code  # the collision is real
    assert second.code != first.code
    assert second.id == "generated/0/000001"
    assert third == generate_program(0, 2)


def test_negative_seed_or_index_is_refused():
    with pytest.raises(ValueError):
        generate_program(-1, 0)
    with pytest.raises(ValueError):
        generate_program(0, -1)


def test_programs_are_shadertoy_bodies(programs):
    for p in programs:
        assert "void mainImage(out vec4 fragColor, in vec2 fragCoord)" in p.code
        assert "#version" not in p.code
        assert not re.search(r"^\s*uniform\s", p.code, re.MULTILINE)
        # the header comments are read back by the ordinary .frag reader
        parsed = program_from_glsl(p.id, p.code)
        assert (parsed.name, parsed.tags, parsed.licence) == (p.name, p.tags, p.licence)


def test_loops_have_small_constant_bounds(programs):
    for p in programs:
        for bound in re.findall(r"for \(int \w+ = -?\d+; \w+ <=? (\w+);", p.code):
            assert bound.isdigit() and int(bound) <= 16, (p.id, bound)
        for function in re.split(r"\n// ", p.code):
            if function.startswith(("fbm", "ridged", "turbulence")):
                assert all(int(n) <= 8 for n in re.findall(r"i < (\d+);", function)), p.id


def test_only_used_helpers_are_emitted(programs):
    for p in programs:
        for name in generator._HELPERS:
            defined = re.search(rf"^\w+ {name}\(", p.code, re.MULTILINE) is not None
            calls = len(re.findall(rf"\b{name}\(", p.code))
            assert not defined or calls >= 2, (p.id, name)  # a definition is followed by a call
            assert defined or calls == 0, (p.id, name)  # and nothing calls a missing helper


def test_every_field_drawn_reaches_the_image(programs):
    for p in programs:
        for name in re.findall(r"^float (f\d+)\(vec2 p\)$", p.code, re.MULTILINE):
            assert re.search(rf"\b{name}\(q", p.code), (p.id, name)
        for var in re.findall(r"float ([aev]\d\d?) = ", p.code):
            assert len(re.findall(rf"\b{var}\b", p.code)) >= 2, (p.id, var)


# tag -> a pattern found in the code exactly when the block is used
TAG_PATTERNS = {
    "worley": r"vec3 worley_[emc]\(",
    "julia": r"// julia ",
    "kaliset": r"// kaliset ",
    "fbm": r"// fbm\d",
    "ridged": r"// ridged\d",
    "turbulence": r"// turbulence\d",
    "truchet": r"// truchet ",
    "hex": r"vec4 hexcell\(",
    "sdf": r"// sdf ",
    "waves": r"// waves x",
    "rings": r"// rings x",
    "texture": r"texture\(iChannel0",
    "kaleidoscope": r"float ka = ang\(p\)",
    "polar": r"p = vec2\(abs\(ang\(p\)\) \* [\d.]+ \+ t \* \S+, length\(p\)",
    "log-polar": r"log\(max\(length\(p\), 1e-3\)\) \* [\d.]+ - t",
    "tile": r"cid = floor\(",
    "fold": r"for \(int k = 0; k < \d; k\+\+\)",
    "palette": r"cos\(6\.2831853 \* \(vec3\(",
    "hsv": r"hsv2rgb\(vec3\(",
    "glow": r"\* pow\(g\d, ",
    "channels": r"vec3 c\d = mix\(vec3\([-\d., ()]*\), vec3\([-\d., ()]*\), vec3\(",
    "bump": r"dFdx\(",
}


def test_tags_and_names_reflect_the_blocks_used(programs):
    seen = set()
    for p in programs:
        assert p.tags[0] == "generated"
        assert len(set(p.tags)) == len(p.tags)
        for tag, pattern in TAG_PATTERNS.items():
            assert (tag in p.tags) == (re.search(pattern, p.code) is not None), (p.id, tag)
        parts = p.name.split("+")
        assert parts and all(parts)
        for tag, prefix in (("worley", "worley"), ("julia", "julia"), ("kaleidoscope", "kaleido"), ("tile", "tile")):
            assert (tag in p.tags) == any(part.startswith(prefix) for part in parts), (p.id, tag)
        seen.update(p.tags)
    # every family of the grammar turns up in a few hundred programs
    assert seen >= set(TAG_PATTERNS) | {"value-noise", "gradient-noise", "simplex-noise", "spiral", "plasma"}


@pytest.mark.gl
def test_sample_compiles_and_renders_non_degenerate_images():
    renderer = ShaderRenderer(32, 32)
    failures = []
    sample = generate_programs(60, seed=123)
    try:
        for p in sample:
            try:
                compiled = renderer.compile(p.id, p.code)
            except ShaderCompileError as err:
                failures.append(f"{p.id} ({p.name}): compile error {err}")
                continue
            stds = [float(renderer.render(compiled, t).astype(np.float32).std()) for t in (1.0, 7.0)]
            if min(stds) < 2.0:
                failures.append(f"{p.id} ({p.name}): pixel std {stds}")
    finally:
        renderer.close()
    assert len(failures) <= 0.05 * len(sample), "\n".join(failures)


def test_every_block_tag_and_name_part_turns_up_in_programs(programs):
    # Each block declares its tag and name part once; a block whose tag never reaches a program
    # is dead (or mis-declared).
    tags = {t for p in programs for t in p.tags}
    parts = {part for p in programs for part in p.name.split("+")}
    for block in builder.BLOCKS.values():
        assert 0.0 <= block.cost < builder.COST_BUDGET, block.name
        assert not block.tag or block.tag in tags, block.name
        assert not block.label or any(part.startswith(block.label) or part.endswith(block.label) for part in parts)
    # only the colour map, tagged by its mode, has no tag of its own
    assert [b.name for b in builder.BLOCKS.values() if not b.tag] == ["colour"]


def test_blocks_and_registry_entries_are_declared_once():
    with pytest.raises(ValueError, match="block 'polar' is declared twice"):
        builder.block("polar", tag="polar", cost=0.2)
    with pytest.raises(ValueError, match="transform 'tile' is declared twice"):
        transforms.transform("tile", weight=1)(lambda b: None)
    with pytest.raises(ValueError, match="field 'hex' is declared twice"):
        fields.field("hex", weight=1, least=0.1)(lambda b: "f0")
    # The registries' order is drawing order, so part of every program.
    assert [t.name for t in transforms.TRANSFORMS] == [
        "scale", "rotate", "translate", "polar", "logpolar", "kaleido",
        "mirror", "tile", "swirl", "sinewarp", "noisewarp", "fold",
    ]  # fmt: skip
    assert [t.name for t in transforms.TRANSFORMS if t.exclusive] == ["polar", "logpolar", "tile", "fold"]
    assert [f.name for f in fields.FIELDS] == [
        "noise", "fbm", "worley", "waves", "rings", "spiral", "plasma",
        "grid", "truchet", "hex", "sdf", "julia", "kaliset", "texture",
    ]  # fmt: skip
    for entry in (*transforms.TRANSFORMS, *fields.FIELDS):
        assert entry.weight > 0, entry.name
    for f in fields.FIELDS:
        # every field fits in the budget a program has left after its frame
        assert 0.0 < f.least < builder.COST_BUDGET - builder.BLOCKS["base"].cost, f.name
