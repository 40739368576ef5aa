import { ApiObjectProps, GroupVersionKind } from 'cdk8s';

/**
 * @internal The props of an ApiObject of kind `gvk` with the fields of `body`, set one by one. V8 gives an object
 * literal that starts with a spread and then adds fields a hidden class of its own each time, so spreading the GVK
 * (`{ ...Kind.GVK, metadata, spec }`) made thousands of them, and every later read of the props (cdk8s copies and
 * resolves them at each synthesis) megamorphic.
 */
export function objectProps(gvk: GroupVersionKind, body: { readonly [key: string]: any }): ApiObjectProps {
  const props: { [key: string]: any } = { apiVersion: gvk.apiVersion, kind: gvk.kind };
  for (const key of Object.keys(body)) props[key] = body[key];
  return props as ApiObjectProps;
}
