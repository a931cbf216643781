// Types of scripts/image/oci-archive.mjs for the TypeScript code that imports it (test harness).
export interface OciPlatform {
  os: string;
  architecture: string;
  variant?: string;
}
export type LayerEntry =
  | { path: string; type: 'file'; content: string | Buffer; mode?: number; uid?: number; gid?: number }
  | { path: string; type: 'file'; source: string; mode?: number; uid?: number; gid?: number }
  | { path: string; type: 'directory'; mode?: number; uid?: number; gid?: number }
  | { path: string; type: 'symlink'; linkname: string; uid?: number; gid?: number };
export type LayerSpec = { dir: string } | { entries: LayerEntry[] };
export interface ImageConfigSpec {
  entrypoint?: string[];
  cmd?: string[];
  user?: string;
  env?: string[];
  workingDir?: string;
  labels?: Record<string, string>;
  /** e.g. '8443/tcp' */
  exposedPorts?: string[];
}
export interface BuiltLayer {
  digest: string;
  size: number;
  diffId: string;
  uncompressedSize: number;
}
export interface WrittenImage {
  reference: string;
  /** the digest a registry reports after a push (sha256:…) */
  manifestDigest: string;
  configDigest: string;
  archiveBytes: number;
  layers: BuiltLayer[];
}
export declare const MEDIA_TYPES: Readonly<{
  index: string;
  manifest: string;
  config: string;
  layerGzip: string;
}>;
export declare function hostPlatform(): OciPlatform;
export declare function sourceDateEpochFromEnv(): number;
export declare function entriesFromDirectory(dir: string): Promise<LayerEntry[]>;
export declare function deterministicGzip(buffer: Buffer): Buffer;
export declare function writeOciArchive(options: {
  out: string;
  reference: string;
  layers: LayerSpec[];
  config?: ImageConfigSpec;
  platform?: OciPlatform;
  /** seconds since 1970; default $SOURCE_DATE_EPOCH, else 0 */
  sourceDateEpoch?: number;
}): Promise<WrittenImage>;
export interface ImageSpec {
  layers: LayerSpec[];
  config?: ImageConfigSpec;
  platform?: OciPlatform;
}
/** One reference, several platforms: an image index (a registry's "manifest list"). */
export declare function writeMultiPlatformOciArchive(options: {
  out: string;
  reference: string;
  images: ImageSpec[];
  sourceDateEpoch?: number;
}): Promise<{
  reference: string;
  indexDigest: string;
  archiveBytes: number;
  images: Array<{
    platform: OciPlatform;
    manifestDigest: string;
    configDigest: string;
    layers: BuiltLayer[];
  }>;
}>;
