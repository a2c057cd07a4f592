"""JSON Schemas of synthgen's documents, from their pydantic models, for editors.

    synthgen schema recipe       # the JSON Schema of a recipe (train, experiment: the others)

The shipped copies (synthgen/shipped/schemas/NAME.schema.json) are what the command prints;
regenerate them after changing a document model:

    for name in recipe train experiment; do
        synthgen schema $name > synthgen/shipped/schemas/$name.schema.json
    done

A schema is looser than its model, never stricter: a document the model accepts passes the
schema, and unknown keys and wrong types fail both; checks across fields (`max` above `min`,
"exactly one of") are the model's alone. Three things are said here in JSON Schema's own terms:
- a union whose variant is chosen by the key present (schema.variant_by_presence): each variant
  requires its key (not null), and forbids the keys that would choose an earlier variant;
- the OpenAPI `discriminator` keyword that pydantic adds to tagged unions is dropped: it is not
  JSON Schema, and the `oneOf` of variants whose tag is a `const` says the same;
- shorthands that a model reads before validating (`size: 64`, `programs: [starter]`) are
  declared where the model reads them (`json_schema_input_type`, `__get_pydantic_json_schema__`).
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

DIALECT = "https://json-schema.org/draft/2020-12/schema"


class DocumentJsonSchema(GenerateJsonSchema):
    """pydantic's schema generator, with synthgen's tagged unions said in JSON Schema."""

    def tagged_union_schema(self, schema: core_schema.TaggedUnionSchema) -> JsonSchemaValue:
        keys = getattr(schema["discriminator"], "presence_keys", None)
        if keys is None:
            generated = super().tagged_union_schema(schema)
            generated.pop("discriminator", None)
            return generated
        variants = []
        for tag, choice in schema["choices"].items():
            key = str(tag)
            earlier = keys[: keys.index(key)]
            variants.append(
                {
                    "allOf": [
                        self.generate_inner(choice),
                        _given(key),
                        *({"not": _given(other)} for other in earlier),
                    ]
                }
            )
        return {"oneOf": variants}


def _given(key: str) -> JsonSchemaValue:
    """`key` is present and not null: what chooses a variant by presence."""
    return {"required": [key], "properties": {key: {"not": {"type": "null"}}}}


def document_json_schema(model: type[BaseModel], title: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the documents `model` validates, titled `title`."""
    schema = model.model_json_schema(schema_generator=DocumentJsonSchema)
    return {"$schema": DIALECT, "title": title, **{key: value for key, value in schema.items() if key != "title"}}


def schema_text(schema: dict[str, Any]) -> str:
    """The schema as the shipped file holds it (and `synthgen schema` prints it)."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
