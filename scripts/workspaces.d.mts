/** Types of workspaces.mjs, for the TypeScript tests that import it. */
export interface WorkspacePackage {
  readonly dir: string;
  readonly name: string;
  readonly manifest: { name: string; version: string; private?: boolean; scripts?: Record<string, string>; [field: string]: unknown };
  readonly internalDeps: readonly string[];
}
export declare const ROOT: string;
export declare function workspacePackages(): WorkspacePackage[];
export declare function dependencyOrder(packages: readonly WorkspacePackage[]): WorkspacePackage[];
