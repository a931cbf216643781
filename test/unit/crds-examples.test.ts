// Every example the users see must work: the discovery guide's YAML examples (rebuilt in
// docs/examples/ because the guide's text lost its indentation), every ```yaml block of
// README.md and docs/*.md, and the guide's two `kubectl patch` payloads on ClusterConfig.
// Each object is checked against its CRD's openAPIV3Schema with ajv (CEL rules are run by
// the e2e layer against a real API server) and, for the examples, by the webhook's rules.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { CLUSTER_CONFIG_NAME, CONFIG_API_VERSION, KIND_CLUSTER_CONFIG } from '../../shared/api/constants.js';
import { formatFieldError, rulesFor } from '../../shared/rules/index.js';
import { schemaViolations } from '../../shared/rules/schema-check.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Liqo v0.2's discovery guide as text, kept in the repository (the tests need nothing beside it). */
const GUIDE = path.join(ROOT, 'test', 'fixtures', 'discovery-guide.txt');
const EXAMPLES = path.join(ROOT, 'docs', 'examples');
/** The guide's placeholder and what docs/examples put in its place. */
const PLACEHOLDER = { guide: '<ADDRESS>:<PORT>', example: '192.168.1.10:30740' };
const OUR_KINDS = new Set(['ForeignCluster', 'SearchDomain', 'ClusterConfig']);

/** The guide's YAML examples as it has them: flat "key: value" lines from "apiVersion:" on. */
function flatExamplesOfGuide(text: string): string[][] {
  const lines = text.split('\n').map((line) => line.trimEnd());
  const examples: string[][] = [];
  lines.forEach((line, i) => {
    if (!line.startsWith('apiVersion:')) return;
    const example: string[] = [];
    for (let j = i; j < lines.length && /^[A-Za-z][\w-]*:( .*)?$/.test(lines[j] ?? ''); j++)
      example.push(lines[j] ?? '');
    examples.push(example);
  });
  return examples;
}

/** A YAML file flattened the way the guide's text was: no indentation, no comment-only lines. */
function flattened(yamlText: string): string[] {
  return yamlText
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#') && line !== '---')
    .map((line) => line.replace(PLACEHOLDER.example, PLACEHOLDER.guide));
}

function objectsIn(yamlText: string, where: string): unknown[] {
  return parseAllDocuments(yamlText).map((doc, i) => {
    assert.deepEqual(doc.errors, [], `${where} document ${i + 1} is not valid YAML`);
    return doc.toJS() as unknown;
  });
}

function kindOf(obj: unknown): string | undefined {
  return typeof obj === 'object' && obj !== null
    ? ((obj as { kind?: unknown }).kind as string | undefined)
    : undefined;
}

/** RFC 7386 JSON merge patch, what `kubectl patch --type merge` sends. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    typeof target === 'object' && target !== null && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

function assertAcceptedByRules(obj: unknown, where: string): void {
  const rules = rulesFor(kindOf(obj));
  assert.ok(rules, `${where}: not one of our kinds`);
  const result = rules.validate(rules.applyDefaults(obj), undefined);
  assert.deepEqual(result.errors.map(formatFieldError), [], where);
}

describe('examples: the discovery guide', () => {
  it('has exactly two YAML examples, and docs/examples rebuilds each one line for line', async () => {
    const guide = flatExamplesOfGuide(await readFile(GUIDE, 'utf8'));
    assert.deepEqual(
      guide.map((example) => example.find((line) => line.startsWith('kind:'))),
      ['kind: ForeignCluster', 'kind: SearchDomain'],
    );
    const rebuilt = await Promise.all(
      ['foreigncluster.yaml', 'searchdomain.yaml'].map((f) => readFile(path.join(EXAMPLES, f), 'utf8')),
    );
    assert.deepEqual(rebuilt.map(flattened), guide);
  });

  it('every docs/examples file passes the CRD schema and the webhook rules', async () => {
    const files = (await readdir(EXAMPLES)).filter((f) => f.endsWith('.yaml'));
    assert.ok(files.length >= 3);
    for (const file of files) {
      for (const obj of objectsIn(await readFile(path.join(EXAMPLES, file), 'utf8'), file)) {
        assert.deepEqual(schemaViolations(kindOf(obj) ?? '', obj), [], file);
        assertAcceptedByRules(obj, file);
      }
    }
  });

  it("the guide's two kubectl patch payloads, merged onto the default ClusterConfig, validate", async () => {
    const guide = await readFile(GUIDE, 'utf8');
    const payloads = [
      ...guide.matchAll(
        /kubectl patch clusterconfigs liqo-configuration[\s\\]*--patch '([^']+)'[\s\\]*--type 'merge'/g,
      ),
    ].map((m) => JSON.parse(m[1] ?? '') as unknown);
    assert.equal(payloads.length, 2);
    const rules = rulesFor(KIND_CLUSTER_CONFIG);
    assert.ok(rules);
    const minimal = {
      apiVersion: CONFIG_API_VERSION,
      kind: KIND_CLUSTER_CONFIG,
      metadata: { name: CLUSTER_CONFIG_NAME },
    };
    const [helmLike] = objectsIn(
      await readFile(path.join(EXAMPLES, 'clusterconfig.yaml'), 'utf8'),
      'clusterconfig.yaml',
    );
    for (const base of [rules.applyDefaults(minimal), helmLike]) {
      for (const [i, payload] of payloads.entries()) {
        // what the API server stores: the patch merged, then the webhook's defaults
        const patched = rules.applyDefaults(mergePatch(base, payload));
        assert.deepEqual(schemaViolations(KIND_CLUSTER_CONFIG, patched), []);
        assert.deepEqual(rules.validate(patched, base), { errors: [], warnings: [] });
        const config = (patched as { spec: { discoveryConfig: Record<string, unknown> } }).spec
          .discoveryConfig;
        assert.deepEqual(
          [config.enableDiscovery, config.enableAdvertisement],
          i === 0 ? [true, true] : [false, false],
        );
      }
    }
  });
});

/** The bodies of the ```yaml (or ```yml) fenced blocks of a markdown text. */
function yamlBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```ya?ml[^\n]*\n([\s\S]*?)^```/gm)].map((m) => m[1] ?? '');
}

describe('examples: README.md and docs/*.md', () => {
  async function markdownFiles(): Promise<string[]> {
    const files = existsSync(path.join(ROOT, 'README.md')) ? [path.join(ROOT, 'README.md')] : [];
    const docs = path.join(ROOT, 'docs');
    if (existsSync(docs)) {
      for (const f of await readdir(docs)) if (f.endsWith('.md')) files.push(path.join(docs, f));
    }
    return files;
  }

  it('finds the yaml blocks of a markdown text (the extractor the next test relies on)', () => {
    const sample =
      'text\n```yaml\nkind: SearchDomain\n```\n```sh\nkubectl get fc\n```\n```yml title\na: 1\n---\nb: 2\n```\n';
    assert.deepEqual(yamlBlocks(sample), ['kind: SearchDomain\n', 'a: 1\n---\nb: 2\n']);
  });

  it('every ```yaml block parses, and each of our objects in it passes the CRD schema', async () => {
    // README.md may not exist yet: then there is nothing to check, and that is fine.
    for (const file of await markdownFiles()) {
      const text = await readFile(file, 'utf8');
      let ours = 0;
      for (const [i, block] of yamlBlocks(text).entries()) {
        const where = `${path.relative(ROOT, file)} yaml block ${i + 1}`;
        for (const obj of objectsIn(block, where)) {
          const kind = kindOf(obj);
          if (kind === undefined || !OUR_KINDS.has(kind)) continue;
          assert.deepEqual(schemaViolations(kind, obj), [], where);
          ours++;
        }
      }
      const mentions = yamlBlocks(text).filter((b) =>
        /^kind: (ForeignCluster|SearchDomain|ClusterConfig)$/m.test(b),
      ).length;
      assert.ok(
        ours >= mentions,
        `${file}: ${mentions} blocks show our kinds but only ${ours} objects were read`,
      );
    }
  });
});
