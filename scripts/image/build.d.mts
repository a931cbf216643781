// Types of scripts/image/build.mjs for the TypeScript code that imports it (tests, harness).
export interface BuiltArchive {
  path: string;
  platforms: string[];
  /** manifest digest (one platform) or image index digest (several) */
  digest: string;
  compressedBytes?: number;
  uncompressedBytes?: number;
  archiveBytes: number;
}
export declare function releaseImageReference(): Promise<string>;
export declare function buildReleaseImage(options: {
  platforms: Array<'amd64' | 'arm64'>;
  reference: string;
  outDir: string;
  sourceDateEpoch?: number;
  /** progress lines (default: none) */
  log?: (line: string) => void;
}): Promise<{ reference: string; archives: BuiltArchive[] }>;
