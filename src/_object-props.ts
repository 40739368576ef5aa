import { ApiObjectProps, GroupVersionKind } from 'cdk8s';

/**
 * @internal The props of an ApiObject of kind `gvk` with the fields of `body`, set one by one. Spreading a GVK into
 * the props (`{ ...Kind.GVK, metadata, spec }`) gives nearly every object a V8 hidden class of its own, so each later
 * read of them (cdk8s copies and resolves the props at every synthesis) goes megamorphic.
 */
export function objectProps(gvk: GroupVersionKind, body: { readonly [key: string]: any }): ApiObjectProps {
  const props: { [key: string]: any } = { apiVersion: gvk.apiVersion, kind: gvk.kind };
  for (const key of Object.keys(body)) props[key] = body[key];
  return props as ApiObjectProps;
}
