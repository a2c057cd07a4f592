#!/usr/bin/env bash
# Run once here, where the package registries are reachable, before a device call of bench/gpu_suite.py:
# it fetches what the lent GPU machine lacks (see gpu_suite.py's docstring) into two git-ignored folders
# that the call carries: .whl/ (Python 3.12 x86-64 wheels) and .gl/ (the GL and EGL loader packages).
set -euo pipefail
cd "$(dirname "$0")/.."
for folder in /.whl/ /.gl/; do
  grep -qxF "$folder" .git/info/exclude 2>/dev/null || echo "$folder" >> .git/info/exclude
done
mkdir -p .whl .gl /tmp/amd64/partial

# The GPU machine has torch, numpy, Pillow, PyYAML, click, fsspec, safetensors, transformers and
# huggingface-hub; these are what synthgen needs beside them (one version each: two stop the install).
platforms=(--platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64
           --platform manylinux2014_x86_64 --platform manylinux1_x86_64)
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  "${platforms[@]}" -d .whl \
  pydantic==2.13.4 pydantic-core==2.46.4 annotated-types==0.7.0 typing-inspection==0.4.2 \
  moderngl==5.13.0 glcontext==3.1.0 kornia==0.9.0 kornia_rs==0.2.0 \
  webdataset==1.0.2 braceexpand==0.1.7 wids==0.1.11 diffusers==0.42.1 importlib_metadata==10.2.0

# The GL loader (glvnd) and EGL, as the device tool's README says; the NVIDIA driver provides the rest.
apt_options=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64)
apt-get "${apt_options[@]}" update -qq
(cd .gl && apt-get "${apt_options[@]}" download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
du -sh .whl .gl
