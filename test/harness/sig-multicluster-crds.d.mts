// Types of sig-multicluster-crds.mjs (a plain ES module so .ci/run can call it with node).
export declare const CLUSTER_INVENTORY_API: {
  module: string;
  version: string;
  path: string;
  file: string;
  sha256: string;
};
export declare const ABOUT_API: {
  module: string;
  commit: string;
  pseudoVersion: string;
  vendored: string;
  file: string;
  sha256: string;
};
export declare function sigMulticlusterCacheDir(): string;
export declare function stripVendorHeader(text: string): string;
export declare function ensureSigMulticlusterCrds(): {
  dir: string;
  clusterProfiles: string;
  clusterProperties: string;
  fetched: string[];
};
