// Types of scripts/release-manifest.mjs for the TypeScript tests that import it.
export declare function renderReleaseManifest(repoRoot: string, version: string): Promise<string>;
