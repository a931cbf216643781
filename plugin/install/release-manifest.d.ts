// The release manifest's text, embedded by the build (scripts/bundles.mjs, bundlePlugin).
declare module 'liqo-release-manifest' {
  const text: string;
  export default text;
}
