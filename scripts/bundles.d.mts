// Types of scripts/bundles.mjs for the TypeScript tests and benchmarks that import it.
export declare const REPO_ROOT: string;
export declare function bundleProgram(program: 'webhook' | 'agent', outDir: string): Promise<string>;
export declare function bundlePlugin(outDir: string): Promise<string>;
export declare function writeReleaseManifest(outDir: string): Promise<string>;
