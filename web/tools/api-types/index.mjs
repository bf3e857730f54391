// The node API's TypeScript types, from its OpenAPI document (python -m kizuna.api.openapi).
// This package exists so openapi-typescript gets the TypeScript 5 compiler API it is built on:
// the app compiles with TypeScript 7, whose package has no JavaScript API.
import openapiTS, { astToString, COMMENT_HEADER } from 'openapi-typescript';

/** The contents of src/generated/api.ts for an OpenAPI document (a parsed JSON object). */
export async function generate(document) {
  const ast = await openapiTS(document, { silent: true });
  return COMMENT_HEADER + astToString(ast);
}
