// esbuild inject: lets ESM sources that read import.meta.url run inside a CommonJS bundle.
export const importMetaUrl = require('url').pathToFileURL(__filename).href;
