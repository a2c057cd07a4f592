"""The version of synthgen's program generator, apart from the generator itself (light: the recipe
model reads it without importing the generator)."""

# Bump it whenever the source of any generated program changes (a new block, another draw order, a
# cost-model fit, GENERATOR_SALT): a recipe's `generate` entry records it, so the change gives
# generated-program recipes a new hash and an earlier corpus is never resumed with other programs.
GENERATOR_VERSION = 1
