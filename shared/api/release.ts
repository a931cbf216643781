// This release's version, from package.json (bundled in at build time): what the webhook and the
// agent publish about themselves and what `kubectl liqo version` prints for the client.
import pkg from '../../package.json' with { type: 'json' };

export const RELEASE_VERSION: string = pkg.version;
