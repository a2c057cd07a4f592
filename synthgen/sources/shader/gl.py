"""Headless rendering of Shadertoy-style programs with moderngl over EGL.

EGL gives an OpenGL 3.3+ core context without a display: Mesa's llvmpipe on machines without
a GPU, the GPU's driver where there is one. A program is wrapped with the Shadertoy uniforms,
drawn as one full-screen triangle into an offscreen framebuffer, and read back with rows
flipped so that row 0 is the top of the image (GL's origin is bottom-left).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np

from synthgen.sources.shader.config import PROGRAM_CACHE
from synthgen.sources.shader.diagnostics import WRAPPER_LINE, compile_log

PRELUDE = """#version 330
uniform vec3 iResolution;
uniform float iTime;
uniform float iTimeDelta;
uniform float iFrameRate;
uniform int iFrame;
uniform vec4 iMouse;
uniform vec4 iDate;
uniform float iSampleRate;
uniform float iChannelTime[4];
uniform vec3 iChannelResolution[4];
uniform sampler2D iChannel0;
uniform sampler2D iChannel1;
uniform sampler2D iChannel2;
uniform sampler2D iChannel3;
out vec4 synthgen_FragColor;
#line 1
"""

# Alpha is not part of the image: it flags pixels whose colour came out NaN or infinite (0),
# so those can be counted; such pixels are stored black, as Shadertoy shows them. Its lines are
# numbered from WRAPPER_LINE, so that an error there is known not to be the program's (diagnostics.py).
EPILOGUE = f"""
#line {WRAPPER_LINE}
void main() {{
    vec4 color = vec4(0.0, 0.0, 0.0, 1.0);
    mainImage(color, gl_FragCoord.xy);
    bool broken = any(isnan(color.rgb)) || any(isinf(color.rgb));
    synthgen_FragColor = broken ? vec4(0.0) : vec4(color.rgb, 1.0);
}}
"""

_VERTEX_SHADER = """#version 330
in vec2 position;
void main() { gl_Position = vec4(position, 0.0, 1.0); }
"""

# Every iChannel is bound to this texture: 256x256 RGBA uniform noise (fixed seed), repeat
# wrap, linear filtering with mipmaps, like Shadertoy's "RGBA Noise Medium".
CHANNEL_TEXTURE_SIZE = 256
CHANNEL_TEXTURE_SEED = 20211
FRAME_RATE = 60.0
SAMPLE_RATE = 44100.0
# iDate is fixed (year, month from 0, day, seconds = iTime) so no output depends on the clock.
DATE = (2021.0, 0.0, 1.0)


class ShaderCompileError(Exception):
    """The program does not compile or link; the message is the driver's log."""


@dataclass
class _Compiled:
    program: Any
    vao: Any


@dataclass
class Frame:
    image: np.ndarray  # uint8 HxWx3, row 0 at the top
    nan_fraction: float  # share of pixels whose colour was NaN or infinite


def channel_texture() -> np.ndarray:
    rng = np.random.Generator(np.random.PCG64(CHANNEL_TEXTURE_SEED))
    return rng.integers(0, 256, size=(CHANNEL_TEXTURE_SIZE, CHANNEL_TEXTURE_SIZE, 4), dtype=np.uint8)


def wrap_program(code: str) -> str:
    """The full fragment shader for a Shadertoy image-pass program."""
    return PRELUDE + code + EPILOGUE


class ShaderRenderer:
    """One GL context rendering programs at a fixed size. Not thread-safe; one per worker."""

    def __init__(
        self, width: int, height: int, device_index: int | None = None, cache_size: int = PROGRAM_CACHE
    ) -> None:
        import moderngl  # imported here so recipe validation never needs GL

        self._moderngl = moderngl
        options: dict[str, Any] = {"backend": "egl", "require": 330}
        if device_index is not None:
            options["device_index"] = device_index
        try:
            self.ctx = moderngl.create_standalone_context(**options)
        except Exception as err:  # glcontext raises plain Exceptions
            raise RuntimeError(f"cannot create a headless OpenGL (EGL) context: {err}") from None
        self.width, self.height = width, height
        self.fbo = self.ctx.framebuffer(color_attachments=[self.ctx.renderbuffer((width, height), components=4)])
        triangle = np.array([-1.0, -1.0, 3.0, -1.0, -1.0, 3.0], dtype="f4")
        self._vbo = self.ctx.buffer(triangle.tobytes())
        texture = self.ctx.texture((CHANNEL_TEXTURE_SIZE, CHANNEL_TEXTURE_SIZE), 4, channel_texture().tobytes())
        texture.repeat_x = texture.repeat_y = True
        texture.build_mipmaps()
        texture.filter = (moderngl.LINEAR_MIPMAP_LINEAR, moderngl.LINEAR)
        for unit in range(4):
            texture.use(location=unit)
        self._texture = texture
        self._cache: OrderedDict[str, _Compiled] = OrderedDict()
        self._cache_size = cache_size

    @property
    def renderer_name(self) -> str:
        return str(self.ctx.info.get("GL_RENDERER", "unknown"))

    def compile(self, key: str, code: str) -> _Compiled:
        """Compile (or fetch from the LRU cache) the program; raises ShaderCompileError."""
        compiled = self._cache.get(key)
        if compiled is not None:
            self._cache.move_to_end(key)
            return compiled
        # Another context in this process may have been made current since (or released,
        # leaving none): GL calls go to the current context, so make ours current first.
        with self.ctx:
            try:
                program = self.ctx.program(vertex_shader=_VERTEX_SHADER, fragment_shader=wrap_program(code))
            except self._moderngl.Error as err:
                raise ShaderCompileError(compile_log(str(err), code)) from None
            except KeyError as err:
                # moderngl expands `#include "NAME"` itself, from ctx.includes (never from files), and
                # raises this for a name it lacks; synthgen registers none, so a program includes nothing.
                raise ShaderCompileError(f"{err.args[0]}: a program cannot include anything") from None
            compiled = _Compiled(program, self.ctx.vertex_array(program, [(self._vbo, "2f", "position")]))
        self._cache[key] = compiled
        if len(self._cache) > self._cache_size:
            _, evicted = self._cache.popitem(last=False)
            evicted.vao.release()
            evicted.program.release()
        return compiled

    @property
    def frame_bytes(self) -> int:
        return self.width * self.height * 4

    def render(self, compiled: _Compiled, time: float) -> np.ndarray:
        """Render one frame at iTime `time`: uint8 HxWx3, row 0 at the top."""
        buffer = bytearray(self.frame_bytes)
        self.render_into(compiled, time, buffer)
        return read_frame(buffer, 0, self.height, self.width).image

    def render_into(self, compiled: _Compiled, time: float, buffer: Any, offset: int = 0) -> None:
        """Render one RGBA frame into `buffer[offset:offset + frame_bytes]`, in GL row order (bottom first)."""
        with self.ctx:
            self._set_uniforms(compiled.program, time)
            self.fbo.use()
            self.fbo.clear(0.0, 0.0, 0.0, 1.0)
            compiled.vao.render(self._moderngl.TRIANGLES)
            self.fbo.read_into(buffer, components=4, alignment=1, write_offset=offset)

    def _set_uniforms(self, program: Any, time: float) -> None:
        values: dict[str, Any] = {
            "iResolution": (float(self.width), float(self.height), 1.0),
            "iTime": time,
            "iTimeDelta": 1.0 / FRAME_RATE,
            "iFrameRate": FRAME_RATE,
            "iFrame": int(round(time * FRAME_RATE)),
            "iMouse": (0.0, 0.0, 0.0, 0.0),
            "iDate": (*DATE, time),
            "iSampleRate": SAMPLE_RATE,
            "iChannel0": 0,
            "iChannel1": 1,
            "iChannel2": 2,
            "iChannel3": 3,
        }
        for name, value in values.items():
            if name in program:  # unused uniforms are optimised away by the compiler
                program[name].value = value
        size = (float(CHANNEL_TEXTURE_SIZE), float(CHANNEL_TEXTURE_SIZE), 1.0)
        for name, value in (("iChannelTime", time), ("iChannelResolution", size)):
            if name in program:
                uniform = program[name]
                # moderngl reads an array the compiler trimmed to one element as a scalar.
                uniform.value = [value] * uniform.array_length if uniform.array_length > 1 else value

    def clear_cache(self) -> None:
        """Release every compiled program (they compile again when next asked for)."""
        with self.ctx:
            for compiled in self._cache.values():
                compiled.vao.release()
                compiled.program.release()
            self._cache.clear()

    def close(self) -> None:
        self.clear_cache()
        self.ctx.release()


def read_frame(buffer: Any, offset: int, height: int, width: int) -> Frame:
    """An RGBA frame in GL row order (bottom row first) as a Frame: a new RGB array, row 0 on top."""
    rgba = np.frombuffer(buffer, dtype=np.uint8, count=height * width * 4, offset=offset).reshape(height, width, 4)
    # Every pixel: a 1/16 subsample read a one-pixel NaN line as 4 times its share, or as none.
    nan_fraction = float(np.mean(rgba[..., 3] == 0))
    return Frame(image=rgba[::-1, :, :3].copy(), nan_fraction=nan_fraction)
