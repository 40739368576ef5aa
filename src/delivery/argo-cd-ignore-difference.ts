/** One entry of an Argo CD Application's `spec.ignoreDifferences`. */
export interface ArgoCdIgnoreDifference {
  /** The API group. */
  readonly group: string;
  /** The kind. */
  readonly kind: string;
  /** The object's name. */
  readonly name: string;
  /** The object's namespace. */
  readonly namespace: string;
  /**
   * JSON pointers to ignore.
   * @default - none
   */
  readonly jsonPointers?: string[];
  /**
   * jq path expressions to ignore.
   * @default - none
   */
  readonly jqPathExpressions?: string[];
}
