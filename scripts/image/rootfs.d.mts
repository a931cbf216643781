// Types of scripts/image/rootfs.mjs for the TypeScript code that imports it.
import type { ImageConfigSpec } from './oci-archive.mjs';
export declare const NONROOT: { uid: number; gid: number; name: string };
export declare const NODE_PATH: string;
export declare const PROGRAMS: { webhook: string; agent: string };
export declare function imageConfig(
  version: string,
): Required<Pick<ImageConfigSpec, 'entrypoint' | 'user' | 'workingDir' | 'env' | 'exposedPorts' | 'labels'>>;
