// The YAML library, imported on demand by -o yaml and install. Imported through this ES module
// because in the split bundle a dynamic import() of the CommonJS package itself yields only
// a default export.
export { parse, parseAllDocuments, stringify } from 'yaml';
